# common/schema/module.mk: the schema table (linked into everything), the DDL
# and docs generator behind `make sql`, and their tests.
COMMON_SRCS += common/schema/schema.c
COMMON_SRCS += common/schema/ddl.c

PROGRAMS += qoestor-schema
qoestor-schema_SRCS := tools/qoestor-schema.c tools/qoestor-schema-doc.c

# make sql: regenerate the committed DDL and schema docs (release build of the generator).
sql: bin/qoestor-schema
	bin/qoestor-schema ddl > sql/qoestor.sql.tmp && mv sql/qoestor.sql.tmp sql/qoestor.sql
	bin/qoestor-schema doc > docs/SCHEMA.md.tmp && mv docs/SCHEMA.md.tmp docs/SCHEMA.md

# make sql-check: fail when sql/qoestor.sql or docs/SCHEMA.md is stale.
sql-check: bin/qoestor-schema
	sh tools/qoestor-schema-check.sh bin/qoestor-schema

UNIT_TESTS += test_schema
test_schema_SRCS := test/unit/test_schema.c
