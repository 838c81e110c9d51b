"""Git evidence: the changed files and added lines, in the cases diffs get wrong."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatekeeper.errors import EvidenceError
from gatekeeper.evidence.git import GitEvidence, parse_added_lines, unquote_path
from tests.factories import make_repo

BASE = {
    "keep.py": "".join(f"line {n}\n" for n in range(1, 11)),
    "old name.py": "".join(f"moved {n}\n" for n in range(1, 21)),
    "gone.py": "bye\n",
    "logo.png": "placeholder\n",
}


@pytest.fixture
def changed(tmp_path: Path) -> dict:
    repo = make_repo(tmp_path, BASE)
    repo.branch("feature")
    keep = [f"line {n}\n" for n in range(1, 11)]
    keep[2] = "line 3 changed\n"
    keep.insert(6, "inserted\n")
    moved = [f"moved {n}\n" for n in range(1, 21)]
    moved[9] = "moved 10, edited\n"
    repo.commit({
        "keep.py": "".join(keep),
        "new name.py": "".join(moved),
        "old name.py": None,
        "gone.py": None,
        "café/naïve.py": "a\nb\n",
        'tab\tand "quote".py': "x\n",
        "logo.png": b"\x89PNG\r\n\x1a\n\x00\x00binary",
    })
    return {f.path: f for f in GitEvidence(tmp_path, "main").changed_files}


def test_statuses_and_added_lines(changed):
    assert changed["keep.py"].status == "modified"
    assert changed["keep.py"].added_lines == (3, 7)
    assert changed["gone.py"].status == "deleted"
    assert changed["gone.py"].added_lines == ()


def test_rename_maps_to_the_new_path_with_only_edited_lines(changed):
    renamed = changed["new name.py"]
    assert (renamed.status, renamed.old_path) == ("renamed", "old name.py")
    assert renamed.added_lines == (10,)
    assert "old name.py" not in changed


def test_quoted_paths(changed):
    assert changed["café/naïve.py"].added_lines == (1, 2)
    assert changed['tab\tand "quote".py'].added_lines == (1,)


def test_binary(changed):
    """Binary content is flagged, and its lines are still counted (``--text``): whether a
    binary file matters is the coverage rule's call, not the diff's."""
    assert changed["logo.png"].binary
    assert changed["logo.png"].added_lines == (1, 2, 3)
    assert not changed["keep.py"].binary


def test_files_lists_the_head_tree(tmp_path):
    make_repo(tmp_path, {"a.py": "x\n", "d/b.py": "y\n"})
    (tmp_path / "untracked.py").write_text("z\n")
    assert GitEvidence(tmp_path, "HEAD").files == {"a.py", "d/b.py"}
    assert GitEvidence(tmp_path, "HEAD", worktree=True).files == {"a.py", "d/b.py", "untracked.py"}


def test_worktree_mode_adds_staged_unstaged_and_untracked(tmp_path):
    repo = make_repo(tmp_path, {"a.py": "1\n2\n", "b.py": "1\n"}).repo
    (tmp_path / "a.py").write_text("1\n2\nstaged\n")
    repo.index.add(["a.py"])
    (tmp_path / "a.py").write_text("1\n2\nstaged\nunstaged\n")
    (tmp_path / "new.py").write_text("n1\nn2\nn3")
    files = {f.path: f for f in GitEvidence(tmp_path, "HEAD", worktree=True).changed_files}
    assert files["a.py"].added_lines == (3, 4)
    assert files["new.py"].added_lines == (1, 2, 3)
    assert "b.py" not in files


def test_git_many_failure_is_an_evidence_error(tmp_path):
    make_repo(tmp_path, {"a.py": "x\n"})
    ev = GitEvidence(tmp_path, "HEAD")
    out, = ev.git_many(["rev-parse", "HEAD"])
    assert out.strip() == ev.head_sha.encode()
    message = r"^git diff failed: error: invalid option: --no-such-option$"
    with pytest.raises(EvidenceError, match=message):
        ev.git_many(["rev-parse", "HEAD"], ["diff", "--no-such-option"])


def test_unquote_and_parse_added_lines():
    assert unquote_path(b'"caf\\303\\251 \\"q\\".py"') == 'café "q".py'
    patch = (b"diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,0 +2,3 @@\n+a\n+b\n+c\n"
             b"@@ -9 +12 @@\n-old\n+new\n@@ -20,2 +23,0 @@\n-gone\n-gone\n"
             b"diff --git a/y b/y\n--- a/y\n+++ /dev/null\n@@ -1 +0,0 @@\n-y\n")
    assert parse_added_lines(patch) == {"x": [2, 3, 4, 12]}


def test_hunk_bodies_that_look_like_headers(tmp_path):
    """Added '++ x' shows as '+++ x' and removed '-- y' as '--- y' in the patch; neither
    is a file header, so the hunk after them still belongs to a.md."""
    repo = make_repo(tmp_path, {"a.md": "keep\n-- y\nm1\nm2\nm3\nend\n", "b.md": "b"})
    repo.branch("feature")
    # b.md: "\ No newline at end of file" on both sides.
    repo.commit({"a.md": "keep\n++ x\nm1\nm2\nm3\nend\nadded\n", "b.md": "b\nmore"})
    files = {f.path: f.added_lines for f in GitEvidence(tmp_path, "main").changed_files}
    assert files == {"a.md": (2, 7), "b.md": (1, 2)}


_CONTENT = st.sampled_from(
    [b"x", b"++ b/x", b"-- a/x", b"@@ -1 +1 @@", b"diff --git a/q b/q", b"Binary files a b differ",
     b"\\ No newline", b"+++ /dev/null", b"nul\0byte", b"", b"\t", b"tab\tend\t"]
)
_FILE = st.tuples(
    st.sampled_from(["a.py", "dir/b c.py", "d\tx.py", "e\nf.py", "caf\u00e9.py", "-- a/x"]),
    st.lists(_CONTENT, max_size=6),
    st.lists(_CONTENT, max_size=6),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=st.lists(_FILE, min_size=1, max_size=4, unique_by=lambda f: f[0]))
def test_patch_parsing_by_file_sections_matches_the_line_by_line_reading(tmp_path_factory, files):
    """Real git output for changes whose lines look like headers, hunks, binary markers
    or NULs: cutting the patch at ``diff --git`` gives what counting every line gives."""
    from gatekeeper.evidence.git import _parse_patch_by_lines, parse_patch, split_raw_patch

    root = tmp_path_factory.mktemp("patch")
    repo = make_repo(root, {name: b"\n".join(old) + b"\n" for name, old, _ in files})
    repo.branch("feature")
    repo.commit({name: b"\n".join(new) for name, _, new in files})
    ev = GitEvidence(root, "main")
    _, patch = split_raw_patch(ev._output("diff"))
    assert not patch or patch.startswith(b"diff --git ")
    assert parse_patch(patch) == _parse_patch_by_lines(patch)


@pytest.mark.parametrize("case", ["o_tmpfile", "no such TMPDIR", "no O_TMPFILE"])
def test_git_output_goes_to_an_anonymous_scratch_file(tmp_path, monkeypatch, case) -> None:
    import os

    from gatekeeper.evidence.git import _scratch_file

    if case == "no such TMPDIR":
        monkeypatch.setenv("TMPDIR", str(tmp_path / "missing"))
    elif case == "no O_TMPFILE":  # as on macOS: tempfile's own way
        import tempfile

        monkeypatch.delattr(os, "O_TMPFILE", raising=False)
        monkeypatch.setattr(tempfile, "_O_TMPFILE_WORKS", False, raising=False)
        monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
        monkeypatch.setenv("TMPDIR", str(tmp_path))
    else:
        monkeypatch.setenv("TMPDIR", str(tmp_path))
    with _scratch_file() as f:
        f.write(b"diff")
        f.seek(0)
        assert f.read() == b"diff"
        assert list(tmp_path.iterdir()) == []  # nothing named is left behind
