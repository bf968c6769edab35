/* helpers.h - shared by the libocispec unit tests. */
#ifndef TEST_HELPERS_H
#define TEST_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "oci-internal.h"

/* Contents of tests/data/NAME (malloc'd, NUL-terminated). */
char *read_data(const char *name, size_t *len);
/* Every diagnostic formatted, one per line, no trailing newline. */
char *diags_text(const oci_diags *d);
/* Parses doc as config.json and checks that it fails with exactly want. */
void expect_config_errors(const char *doc, const char *want);
/* Structural JSON equality (object member order ignored). */
void assert_same_json(const char *a, size_t alen, const char *b, size_t blen);

int run_roundtrip_tests(void);
int run_error_tests(void);
int run_api_tests(void);

#endif
