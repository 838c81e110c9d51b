"""``python -m gatekeeper.policy.compiled``: make the precompiled policy validators."""

from gatekeeper.policy.compiled.build import main

main()
