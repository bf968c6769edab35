/* test-errors.c - every error class, with its exact message and position. */
#include "helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_syntax(void **state)
{
	expect_config_errors("{\"ociVersion\": \"1.0\",\n \"process\": }",
			     "config.json:2:13: invalid JSON: unallowed token at this point in JSON text");
	expect_config_errors("{\"a\": 1} x", "config.json:1:10: invalid JSON: trailing garbage");
	expect_config_errors("{'a': 1}", "config.json:1:2: invalid JSON: invalid char in json text");
}

static void test_truncated(void **state)
{
	expect_config_errors("{\"ociVersion\": \"1.0\",\n \"process\": {",
			     "config.json:2:14: unexpected end of document");
	expect_config_errors("{\"ociVersion\": \"1.", "config.json:1:19: unexpected end of document");
	expect_config_errors("", "config.json:1:1: empty document");
	expect_config_errors(" \n ", "config.json:2:2: empty document");
}

static void test_invalid_utf8(void **state)
{
	expect_config_errors("{\"ociVersion\": \"1.0\", \"hostname\": \"a\xff\"}",
			     "config.json:1:35: hostname: invalid UTF-8 in string");
	/* overlong encoding of '/', and a lone surrogate; columns count characters */
	expect_config_errors("{\"ociVersion\": \"é\", \"mounts\": [{\"destination\": \"\xc0\xaf\"}],"
			     " \"x\": \"\xed\xa0\x80\"}",
			     "config.json:1:48: mounts[0].destination: invalid UTF-8 in string\n"
			     "config.json:1:60: x: invalid UTF-8 in string");
	expect_config_errors("{\"ociVersion\": \"1\", \"\xfe\": 1}",
			     "config.json:1:21: invalid UTF-8 in member name");
	expect_config_errors("{\"ociVersion\": \"1\", \"hostname\": \"a\\u0000b\"}",
			     "config.json:1:33: hostname: string contains a NUL character");
}

static void test_max_size(void **state)
{
	const char *doc = "{\"ociVersion\": \"1.0.0\"}";
	oci_parse_opts opts = { .filename = "config.json", .max_size = 10 };
	oci_diags d = { 0 };
	char *text;

	assert_null(oci_config_parse_data(doc, strlen(doc), &opts, &d));
	text = diags_text(&d);
	assert_string_equal(text, "config.json: document is 23 bytes, over the limit of 10 bytes");
	free(text);
	oci_diags_free(&d);

	opts.filename = NULL;
	assert_null(oci_config_parse_file(TEST_DATA_DIR "/runc-spec.json", &opts, &d));
	text = diags_text(&d);
	assert_string_equal(text, TEST_DATA_DIR "/runc-spec.json: document is 2560 bytes, over the "
						"limit of 10 bytes");
	free(text);
	oci_diags_free(&d);
}

static void test_wrong_type(void **state)
{
	expect_config_errors("{\"ociVersion\": \"1\", \"linux\": {\"namespaces\": [\n"
			     "  {\"type\": \"pid\"},\n  {\"type\": \"ipc\"},\n"
			     "  {\"type\": 7}]}}",
			     "config.json:4:12: linux.namespaces[2].type: expected a string, got a number");
	expect_config_errors("[]", "config.json:1:1: expected an object, got an array");
	expect_config_errors("{\"ociVersion\": \"1\", \"mounts\": {}}",
			     "config.json:1:31: mounts: expected an array, got an object");
	expect_config_errors("{\"ociVersion\": \"1\", \"process\": {\"cwd\": \"/\", \"terminal\": "
			     "\"yes\"}}",
			     "config.json:1:57: process.terminal: expected a boolean, got a string");
	expect_config_errors("{\"ociVersion\": \"1\", \"linux\": {\"sysctl\": {\"net.ipv4.ip_forward\": 1}}}",
			     "config.json:1:65: linux.sysctl[\"net.ipv4.ip_forward\"]: expected a string, "
			     "got a number");
}

static void test_missing_required(void **state)
{
	expect_config_errors("{}", "config.json:1:1: missing required field \"ociVersion\"");
	expect_config_errors("{\"ociVersion\": \"1\", \"linux\": {\"namespaces\": [{\"path\": \"/x\"}]}}",
			     "config.json:1:46: linux.namespaces[0]: missing required field \"type\"");
	expect_config_errors("{\"ociVersion\": \"1\", \"process\": {\"cwd\": \"/\", \"user\": {}}}",
			     "config.json:1:53: process.user: missing required field \"uid\"\n"
			     "config.json:1:53: process.user: missing required field \"gid\"");
	/* null reads as absent */
	expect_config_errors("{\"ociVersion\": null}",
			     "config.json:1:1: missing required field \"ociVersion\"");
}

static void test_invalid_enum(void **state)
{
	expect_config_errors("{\"ociVersion\": \"1\", \"linux\": {\"namespaces\": [{\"type\": \"pidd\"}]}}",
			     "config.json:1:55: linux.namespaces[0].type: invalid value \"pidd\", expected "
			     "one of: pid, network, mount, ipc, uts, user, cgroup, time");
	expect_config_errors("{\"ociVersion\": \"1\", \"linux\": {\"timeOffsets\": {\"realtime\": {}}}}",
			     "config.json:1:59: linux.timeOffsets.realtime: invalid key \"realtime\", "
			     "expected one of: monotonic, boottime");
	expect_config_errors("{\"ociVersion\": \"1\", \"linux\": {\"seccomp\": {\"defaultAction\": "
			     "\"SCMP_ACT_ALLOW\", \"flags\": [\"SECCOMP_FILTER_FLAG_LOG\", \"X\"]}}}",
			     "config.json:1:115: linux.seccomp.flags[1]: invalid value \"X\", expected one "
			     "of: SECCOMP_FILTER_FLAG_TSYNC, SECCOMP_FILTER_FLAG_LOG, "
			     "SECCOMP_FILTER_FLAG_SPEC_ALLOW, SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV");
}

#define USER_DOC(uid) "{\"ociVersion\": \"1\", \"process\": {\"cwd\": \"/\", \"user\": {\"gid\": 0, \"uid\": " uid "}}}"

static void test_integer_range(void **state)
{
	/* ids: uint32 without 4294967295, (uid_t)-1 */
	expect_config_errors(USER_DOC("4294967296"),
			     "config.json:1:71: process.user.uid: integer 4294967296 out of range for "
			     "a uid or gid (4294967295 is -1, which the kernel reads as \"unchanged\") [0, 4294967294]");
	expect_config_errors(USER_DOC("4294967295"),
			     "config.json:1:71: process.user.uid: integer 4294967295 out of range for "
			     "a uid or gid (4294967295 is -1, which the kernel reads as \"unchanged\") [0, 4294967294]");
	expect_config_errors(USER_DOC("-1"), "config.json:1:71: process.user.uid: integer -1 out of "
					     "range for a uid or gid (4294967295 is -1, which the kernel reads as \"unchanged\") [0, 4294967294]");
	expect_config_errors(USER_DOC("99999999999999999999999"),
			     "config.json:1:71: process.user.uid: integer 99999999999999999999999 out "
			     "of range for a uid or gid (4294967295 is -1, which the kernel reads as \"unchanged\") [0, 4294967294]");
	expect_config_errors("{\"ociVersion\": \"1\", \"process\": {\"cwd\": \"/\", \"user\": "
			     "{\"uid\": 0, \"gid\": 0, \"umask\": 4294967296}}}",
			     "config.json:1:83: process.user.umask: integer 4294967296 out of range for "
			     "uint32 [0, 4294967295]");
	expect_config_errors("{\"ociVersion\": \"1\", \"process\": {\"cwd\": \"/\", \"oomScoreAdj\": "
			     "-2147483649}}",
			     "config.json:1:60: process.oomScoreAdj: integer -2147483649 out of range "
			     "for int [-2147483648, 2147483647]");
	expect_config_errors("{\"ociVersion\": \"1\", \"linux\": {\"resources\": {\"memory\": {\"limit\": "
			     "-9223372036854775809, \"swappiness\": 18446744073709551616}}}}",
			     "config.json:1:65: linux.resources.memory.limit: integer "
			     "-9223372036854775809 out of range for int64 [-9223372036854775808, "
			     "9223372036854775807]\n"
			     "config.json:1:101: linux.resources.memory.swappiness: integer "
			     "18446744073709551616 out of range for uint64 [0, 18446744073709551615]");
}

static void test_integer_limits_accepted(void **state)
{
	const char *doc = "{\"ociVersion\": \"1\", \"process\": {\"cwd\": \"/\", \"oomScoreAdj\": "
			  "-2147483648, \"user\": {\"uid\": 4294967294, \"gid\": -0}}, \"linux\": "
			  "{\"resources\": {\"memory\": {\"limit\": -9223372036854775808, \"swap\": "
			  "9223372036854775807, \"swappiness\": 18446744073709551615}}}}";
	oci_config *c = oci_config_parse_data(doc, strlen(doc), NULL, NULL);

	assert_non_null(c);
	assert_int_equal(c->process->oom_score_adj, INT32_MIN);
	assert_int_equal(c->process->user->uid, UINT32_MAX - 1);
	assert_int_equal(c->process->user->gid, 0);
	assert_true(c->linux->resources->memory->limit == INT64_MIN);
	assert_true(c->linux->resources->memory->swap == INT64_MAX);
	assert_true(c->linux->resources->memory->swappiness == UINT64_MAX);
	oci_config_free(c);
}

static void test_non_integer(void **state)
{
	expect_config_errors(USER_DOC("1.5"),
			     "config.json:1:71: process.user.uid: expected an integer, got 1.5");
	expect_config_errors(USER_DOC("1e3"),
			     "config.json:1:71: process.user.uid: expected an integer, got 1e3");
	expect_config_errors(USER_DOC("\"1\""),
			     "config.json:1:71: process.user.uid: expected an integer, got a string");
}

static void test_duplicate_key(void **state)
{
	expect_config_errors("{\"ociVersion\": \"1\", \"hostname\": \"a\", \"hostname\": \"b\"}",
			     "config.json:1:50: duplicate key \"hostname\"");
	/* big objects take the sorting path */
	oci_buf doc = { 0 };
	int i;
	oci_buf_puts(&doc, "{\"ociVersion\": \"1\", \"annotations\": {");
	for (i = 0; i < 40; i++)
		oci_buf_printf(&doc, "\"k%d\": \"v\", ", i % 30);
	oci_buf_puts(&doc, "\"end\": \"\"}}");
	oci_diags d = { 0 };
	assert_null(oci_config_parse_data(doc.buf, doc.len, NULL, &d));
	assert_int_equal(d.len, 10);
	assert_string_equal(d.items[0].path, "annotations");
	assert_string_equal(d.items[0].msg, "duplicate key \"k0\"");
	/* 36 bytes of prefix, ten 11-byte and twenty 12-byte members, "k0": */
	assert_int_equal(d.items[0].col, 36 + 10 * 11 + 20 * 12 + 7);
	oci_diags_free(&d);
	oci_buf_free(&doc);
}

/* A document with several problems lists them all, in document order. */
static void test_all_errors_reported(void **state)
{
	expect_config_errors("{\n"
			     "  \"ociVersion\": 1,\n"
			     "  \"hostname\": [],\n"
			     "  \"process\": {\"cwd\": \"/\", \"args\": [\"a\", 2, \"c\"]}\n"
			     "}",
			     "config.json:2:17: ociVersion: expected a string, got a number\n"
			     "config.json:3:15: hostname: expected a string, got an array\n"
			     "config.json:4:41: process.args[1]: expected a string, got a number");
}

/* Problems found while reading the text (duplicates, UTF-8) and while
 * decoding come out sorted by position. */
static void test_errors_in_document_order(void **state)
{
	expect_config_errors("{\n"
			     "  \"ociVersion\": \"1\",\n"
			     "  \"hostname\": 5,\n"
			     "  \"hostname\": \"x\",\n"
			     "  \"mounts\": [{\"destination\": \"/\xff\"}],\n"
			     "  \"process\": {\"args\": [1]}\n"
			     "}",
			     "config.json:3:15: hostname: expected a string, got a number\n"
			     "config.json:4:15: duplicate key \"hostname\"\n"
			     "config.json:5:30: mounts[0].destination: invalid UTF-8 in string\n"
			     "config.json:6:14: process: missing required field \"cwd\"\n"
			     "config.json:6:24: process.args[0]: expected a string, got a number");
}

static void test_nesting_limit(void **state)
{
	oci_buf doc = { 0 };
	oci_diags d = { 0 };
	int i;

	oci_buf_puts(&doc, "{\"x\": ");
	for (i = 0; i < 300; i++)
		oci_buf_putc(&doc, '[');
	assert_null(oci_config_parse_data(doc.buf, doc.len, NULL, &d));
	assert_int_equal(d.len, 1);
	assert_string_equal(d.items[0].msg, "nesting deeper than 256 levels");
	oci_diags_free(&d);
	oci_buf_free(&doc);
}

static void test_error_budget(void **state)
{
	oci_buf doc = { 0 };
	oci_diags d = { 0 };
	int i;

	oci_buf_puts(&doc, "{\"ociVersion\": \"1\", \"linux\": {\"maskedPaths\": [");
	for (i = 0; i < 3000; i++)
		oci_buf_puts(&doc, "1,");
	oci_buf_puts(&doc, "1]}}");
	assert_null(oci_config_parse_data(doc.buf, doc.len, NULL, &d));
	assert_int_equal(d.len, OCI_MAX_ERRORS + 1);
	assert_string_equal(d.items[OCI_MAX_ERRORS].msg, "too many errors, not reporting more");
	oci_diags_free(&d);
	oci_buf_free(&doc);
}

static void test_missing_file(void **state)
{
	oci_diags d = { 0 };
	char *text;

	assert_null(oci_config_parse_file("/nonexistent/config.json", NULL, &d));
	text = diags_text(&d);
	assert_string_equal(text, "/nonexistent/config.json: cannot open: No such file or directory");
	free(text);
	oci_diags_free(&d);
}

static void test_null_diags(void **state)
{
	assert_null(oci_config_parse_data("{}", 2, NULL, NULL));
	assert_null(oci_state_parse_data("{", 1, NULL, NULL));
}

/* Errors of other root types name their own required members. */
static void test_other_roots(void **state)
{
	oci_diags d = { 0 };
	char *text;

	const char *state_doc = "{\"ociVersion\": \"1\", \"id\": \"x\", \"status\": \"sleeping\", "
				"\"bundle\": \"/b\"}";
	const char *status_doc = "{\"id\": \"x\"}";
	const char *features_doc = "{\"ociVersionMin\": \"1\"}";

	assert_null(oci_state_parse_data(state_doc, strlen(state_doc), NULL, &d));
	assert_null(skiff_status_parse_data(status_doc, strlen(status_doc), NULL, &d));
	assert_null(oci_features_parse_data(features_doc, strlen(features_doc), NULL, &d));
	text = diags_text(&d);
	assert_string_equal(text, "1:42: status: invalid value \"sleeping\", expected one of: "
				  "creating, created, running, stopped, paused\n"
				  "1:1: missing required field \"pid\"\n"
				  "1:1: missing required field \"bundle\"\n"
				  "1:1: missing required field \"ociVersionMax\"");
	free(text);
	oci_diags_free(&d);
}

int run_error_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_max_size),
		cmocka_unit_test(test_wrong_type),
		cmocka_unit_test(test_missing_required),
		cmocka_unit_test(test_invalid_enum),
		cmocka_unit_test(test_integer_range),
		cmocka_unit_test(test_integer_limits_accepted),
		cmocka_unit_test(test_non_integer),
		cmocka_unit_test(test_duplicate_key),
		cmocka_unit_test(test_all_errors_reported),
		cmocka_unit_test(test_errors_in_document_order),
		cmocka_unit_test(test_nesting_limit),
		cmocka_unit_test(test_error_budget),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_null_diags),
		cmocka_unit_test(test_other_roots),
	};
	return cmocka_run_group_tests_name("errors", tests, NULL, NULL);
}
