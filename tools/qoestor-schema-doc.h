/* qoestor-schema-doc.h: docs/SCHEMA.md, written from the schema table.
 * Used only by tools/qoestor-schema. Single-threaded, writes to a FILE.
 */
#ifndef QOESTOR_TOOLS_SCHEMA_DOC_H
#define QOESTOR_TOOLS_SCHEMA_DOC_H

#include <stdio.h>

/* Write the whole document to out. 0, or -1 on a write error or out of memory. */
int qs_schema_doc_write(FILE *out);

#endif
