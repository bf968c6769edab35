/* test-api.c - positions, emission rules, maps and diagnostic format. */
#include "helpers.h"

#include <stdlib.h>
#include <string.h>

static void test_positions(void **state)
{
	oci_parse_opts opts = { .keep_positions = true };
	size_t len;
	char *doc = read_data("podman-seccomp.json", &len);
	oci_config *c = oci_config_parse_data(doc, len, &opts, NULL);
	unsigned line = 0, col = 0;

	assert_non_null(c);
	assert_true(oci_config_position(c, "", &line, &col));
	assert_int_equal(line, 1);
	assert_int_equal(col, 1);
	/* tests/data/podman-seccomp.json is indented with 4 spaces */
	assert_true(oci_config_position(c, "ociVersion", &line, &col));
	assert_int_equal(line, 2);
	assert_int_equal(col, 19);
	assert_true(oci_config_position(c, "mounts[3].destination", &line, &col));
	assert_true(!strncmp(doc + 0, "{", 1));
	{
		/* find the text at line:col and check it is the 4th destination */
		const char *p = doc;
		unsigned l;
		for (l = 1; l < line; l++)
			p = strchr(p, '\n') + 1;
		assert_memory_equal(p + col - 1, "\"/dev/pts\"", 10);
	}
	assert_true(oci_config_position(c, "linux.namespaces[1]", &line, &col));
	assert_true(oci_config_position(c, "linux.sysctl[\"net.ipv4.ping_group_range\"]", &line, &col));
	assert_true(oci_config_position(c, "annotations[\"io.container.manager\"]", &line, &col));
	assert_true(oci_config_position(c, "linux.seccomp.syscalls[0].names[352]", &line, &col));
	assert_false(oci_config_position(c, "linux.seccomp.syscalls[0].names[353]", &line, &col));
	assert_false(oci_config_position(c, "nosuch", &line, &col));
	assert_false(oci_config_position(c, "mounts[", &line, &col));
	assert_false(oci_config_position(c, "mounts[x]", &line, &col));
	assert_false(oci_config_position(c, "mounts[99999999999999999999999]", &line, &col));
	assert_false(oci_config_position(c, "mounts.0", &line, &col));
	assert_false(oci_config_position(c, "annotations[\"io.container.manager", &line, &col));
	assert_false(oci_config_position(c, "process..cwd", &line, &col));
	assert_false(oci_config_position(c, ".process", &line, &col));
	assert_true(oci_config_position(c, "[\"process\"].cwd", &line, &col));
	oci_config_free(c);

	/* without the option there is no table */
	c = oci_config_parse_data(doc, len, NULL, NULL);
	assert_null(c->_positions);
	assert_false(oci_config_position(c, "", &line, &col));
	oci_config_free(c);
	free(doc);
}

static void test_position_quoted_key(void **state)
{
	const char *doc = "{\"ociVersion\":\"1\",\"annotations\":{\"a\\\"b\\\\c\":\"x\"}}";
	oci_parse_opts opts = { .keep_positions = true };
	oci_state *s = oci_state_parse_data("{}", 2, &opts, NULL);
	oci_config *c = oci_config_parse_data(doc, strlen(doc), &opts, NULL);
	unsigned line = 0, col = 0;

	assert_null(s);
	assert_non_null(c);
	assert_string_equal(c->annotations->keys[0], "a\"b\\c");
	assert_true(oci_config_position(c, "annotations[\"a\\\"b\\\\c\"]", &line, &col));
	assert_int_equal(line, 1);
	assert_int_equal(col, 44);
	oci_config_free(c);
}

static skiff_status *make_status(void)
{
	skiff_status *s = calloc(1, sizeof(*s));

	s->id = strdup("web");
	s->pid = 42;
	s->bundle = strdup("/b");
	s->systemd = true; /* non-zero: emitted even without systemd_present */
	oci_string_map_set(&s->annotations, "k", "v");
	oci_string_map_set(&s->annotations, "a.b", "1");
	oci_string_map_set(&s->annotations, "k", "v2");
	return s;
}

static void test_emit_hand_built(void **state)
{
	skiff_status *s = make_status();
	size_t len;
	char *out = skiff_status_emit(s, false, &len, NULL);

	assert_string_equal(out, "{\"id\":\"web\",\"pid\":42,\"bundle\":\"/b\",\"systemd\":true,"
				 "\"annotations\":{\"k\":\"v2\",\"a.b\":\"1\"}}");
	free(out);
	/* zero optional scalars need _present */
	s->pid_start_present = true;
	out = skiff_status_emit(s, true, &len, NULL);
	assert_string_equal(out, "{\n  \"id\": \"web\",\n  \"pid\": 42,\n  \"pid_start\": 0,\n"
				 "  \"bundle\": \"/b\",\n  \"systemd\": true,\n  \"annotations\": {\n"
				 "    \"k\": \"v2\",\n    \"a.b\": \"1\"\n  }\n}");
	assert_int_equal(len, strlen(out));
	free(out);
	assert_string_equal(oci_string_map_get(s->annotations, "a.b"), "1");
	assert_null(oci_string_map_get(s->annotations, "zz"));
	skiff_status_free(s);
}

static void test_emit_errors(void **state)
{
	oci_config *c = calloc(1, sizeof(*c));
	oci_diags d = { 0 };
	char *text;

	c->linux = calloc(1, sizeof(*c->linux));
	c->linux->namespaces = calloc(2, sizeof(*c->linux->namespaces));
	c->linux->namespaces[0] = calloc(1, sizeof(oci_namespace));
	c->linux->namespaces[0]->type = strdup("bogus");
	c->linux->namespaces[1] = calloc(1, sizeof(oci_namespace));
	c->linux->namespaces_len = 2;
	c->hostname = strdup("bad\xff");
	assert_null(oci_config_emit(c, false, NULL, &d));
	text = diags_text(&d);
	assert_string_equal(text, "missing required field \"ociVersion\"\n"
				  "hostname: invalid UTF-8 in string\n"
				  "linux.namespaces[0].type: invalid value \"bogus\"\n"
				  "linux.namespaces[1]: missing required field \"type\"");
	free(text);
	oci_diags_free(&d);
	oci_config_free(c);
	assert_null(oci_config_emit(NULL, false, NULL, NULL));
}

/* Escapes survive; output is valid UTF-8 JSON that parses back. */
static void test_emit_escapes(void **state)
{
	const char *doc = "{\"ociVersion\":\"q\\\"b\\\\s\\n\\t\\u0001\\u00e9/\\ud83d\\ude00\"}";
	oci_config *c = oci_config_parse_data(doc, strlen(doc), NULL, NULL);
	char *out;

	assert_non_null(c);
	assert_string_equal(c->oci_version, "q\"b\\s\n\t\x01\xc3\xa9/\xf0\x9f\x98\x80");
	out = oci_config_emit(c, false, NULL, NULL);
	assert_string_equal(out, "{\"ociVersion\":\"q\\\"b\\\\s\\n\\t\\u0001\xc3\xa9/\xf0\x9f\x98\x80\"}");
	free(out);
	oci_config_free(c);
}

static void test_diag_format(void **state)
{
	oci_diags d = { 0 };
	char *s;

	oci_diags_add(&d, OCI_DIAG_ERROR, "config.json", 14, 23, "linux.namespaces[2].type",
		      "expected a string, got %s", "a number");
	oci_diags_add(&d, OCI_DIAG_WARNING, "config.json", 0, 0, "", "%s", "no linux section");
	oci_diags_add(&d, OCI_DIAG_ERROR, NULL, 0, 0, "process", "%s", "bad");
	oci_diags_add(&d, OCI_DIAG_NOTE, NULL, 3, 4, NULL, "%d", 5);
	s = diags_text(&d);
	assert_string_equal(s, "config.json:14:23: linux.namespaces[2].type: expected a string, got a number\n"
			       "config.json: warning: no linux section\n"
			       "process: bad\n"
			       "3:4: note: 5");
	free(s);
	assert_int_equal(oci_diags_errors(&d), 2);
	oci_diags_free(&d);
	oci_diags_free(NULL);
	oci_diags_add(NULL, OCI_DIAG_ERROR, NULL, 0, 0, NULL, "ignored");
}

static void test_enum_tables(void **state)
{
	const char *const *p;
	size_t n = 0;

	for (p = oci_namespace_type_values; *p; p++)
		n++;
	assert_int_equal(n, 8);
	assert_string_equal(oci_seccomp_action_values[0], "SCMP_ACT_KILL");
}

static void test_free_null(void **state)
{
	oci_config_free(NULL);
	oci_mount_free(NULL);
	oci_rdma_map_free(NULL);
	oci_string_map_free(NULL);
	skiff_status_free(NULL);
}

int run_api_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_positions),
		cmocka_unit_test(test_position_quoted_key),
		cmocka_unit_test(test_emit_hand_built),
		cmocka_unit_test(test_emit_errors),
		cmocka_unit_test(test_emit_escapes),
		cmocka_unit_test(test_diag_format),
		cmocka_unit_test(test_enum_tables),
		cmocka_unit_test(test_free_null),
	};
	return cmocka_run_group_tests_name("api", tests, NULL, NULL);
}
