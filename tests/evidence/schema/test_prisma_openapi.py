"""Prisma schema pairs and OpenAPI document pairs, compared base vs head."""

from __future__ import annotations

from pathlib import Path

from tests.evidence.schema.helpers import changes

PRISMA_BASE = """// This is your Prisma schema file
generator client {
  provider = "prisma-client-js"
}

datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

enum Role {
  USER
  ADMIN
  GUEST
}

model User {
  id        Int      @id @default(autoincrement())
  email     String   @unique
  name      String?
  nickname  String?  @default("}")  // a brace inside a string
  role      Role     @default(USER)
  posts     Post[]
  createdAt DateTime @default(now())
}

model Post {
  id       Int    @id @default(autoincrement())
  title    String
  authorId Int
  author   User   @relation(fields: [authorId], references: [id])
}

model Legacy {
  id Int @id
}
"""
PRISMA_HEAD = (
    PRISMA_BASE.replace("  GUEST\n", "")
    .replace("  name      String?", "  name      String")
    .replace("  nickname  String?  @default(\"}\")  // a brace inside a string\n", "")
    .replace("model Legacy {\n  id Int @id\n}\n", "model Tag {\n  id Int @id\n}\n")
    .replace("  title    String\n", "  title    String\n  slug     String\n  views    Int @default(0)\n")
)


def test_prisma_schema_pair(tmp_path: Path) -> None:
    found = changes(tmp_path, {"prisma/schema.prisma": PRISMA_BASE},
                    {"prisma/schema.prisma": PRISMA_HEAD})  # fmt: skip
    c = found["prisma/schema.prisma"]
    assert c.kind == "prisma" and c.destructive and c.reversible is None and not c.released
    assert set(c.operations) == {
        "make required User.name", "remove field User.nickname", "add field Post.slug",
        "add field Post.views", "remove model Legacy", "add model Tag", "remove enum value Role.GUEST",
    }
    assert c.reasons == ("Post.slug is required without @default",)


def test_prisma_additions_only_are_not_destructive(tmp_path: Path) -> None:
    head = PRISMA_BASE.replace("  GUEST\n", "  GUEST\n  OWNER\n").replace(
        "  createdAt DateTime @default(now())\n", "  createdAt DateTime @default(now())\n  bio String?\n"
    )
    c = changes(tmp_path, {"schema.prisma": PRISMA_BASE}, {"schema.prisma": head})["schema.prisma"]
    assert set(c.operations) == {"add enum value Role.OWNER", "add field User.bio"}
    assert not c.destructive


def test_broken_prisma_is_unparsable(tmp_path: Path) -> None:
    c = changes(tmp_path, {}, {"schema.prisma": "model User {\n  id Int @id\n"})["schema.prisma"]
    assert (c.parsed, c.destructive) == (False, True)


OPENAPI_BASE = """openapi: 3.0.3
info: {title: Shop, version: 1.0.0}
paths:
  /users:
    get:
      parameters:
        - {name: limit, in: query, schema: {type: integer}}
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/User'}
    post:
      requestBody:
        content:
          application/json:
            schema:
              type: object
              required: [email]
              properties:
                email: {type: string}
                age: {type: integer}
      responses:
        '201': {description: created}
  /users/{id}:
    delete:
      responses:
        '204': {description: gone}
  /health:
    get:
      responses:
        '200': {description: ok}
components:
  schemas:
    User:
      type: object
      required: [id, email]
      properties:
        id: {type: integer}
        email: {type: string}
"""
OPENAPI_HEAD = (
    OPENAPI_BASE.replace("        - {name: limit, in: query, schema: {type: integer}}",
                         "        - {name: limit, in: query, schema: {type: string}}\n"
                         "        - {name: tenant, in: header, required: true, schema: {type: string}}")
    .replace("              required: [email]", "              required: [email, age]")
    .replace("        '201': {description: created}", "        '202': {description: accepted}")
    .replace("  /users/{id}:\n    delete:\n      responses:\n        '204': {description: gone}\n", "")
    .replace("      required: [id, email]", "      required: [id]")
    .replace("  /health:", "  /status:\n    get:\n      responses:\n        '200': {description: ok}\n  /health:")
)  # fmt: skip


def test_openapi_pair_breaking_changes(tmp_path: Path) -> None:
    c = changes(tmp_path, {"api/openapi.yaml": OPENAPI_BASE},
                {"api/openapi.yaml": OPENAPI_HEAD})["api/openapi.yaml"]  # fmt: skip
    assert c.kind == "openapi" and c.destructive and c.reversible is None
    assert set(c.operations) == {
        "remove path /users/{id}",
        "add path /status",
        "add required header parameter tenant to GET /users",
        "change type of query parameter limit in GET /users integer -> string",
        "add required property age to request body of POST /users",
        "remove response 201 from POST /users",
        "remove required response property email (200 of GET /users)",
    }


def test_openapi_non_breaking_change(tmp_path: Path) -> None:
    head = OPENAPI_BASE.replace("info: {title: Shop, version: 1.0.0}", "info: {title: Shop, version: 1.1.0}")
    head += "    Extra: {type: object}\n"
    c = changes(tmp_path, {"openapi.yml": OPENAPI_BASE}, {"openapi.yml": head})["openapi.yml"]
    assert c.operations == () and not c.destructive


def test_openapi_json_and_removed_operation(tmp_path: Path) -> None:
    base = '{"openapi": "3.1.0", "info": {"title": "x", "version": "1"}, "paths": {"/a": {"get": {"responses": {"200": {"description": "ok"}}}, "put": {"responses": {"200": {"description": "ok"}}}}}}'
    head = base.replace(', "put": {"responses": {"200": {"description": "ok"}}}', "")
    c = changes(tmp_path, {"spec/api.json": base}, {"spec/api.json": head})["spec/api.json"]
    assert c.operations == ("remove operation PUT /a",) and c.destructive


def test_yaml_that_mentions_openapi_is_not_an_api(tmp_path: Path) -> None:
    assert changes(tmp_path, {}, {"docs/config.yml": "tools: [openapi-generator]\n"}) == {}
