/* test-roundtrip.c - parse -> emit -> parse keeps documents whole. */
#include "helpers.h"

#include <stdlib.h>
#include <string.h>

typedef void *(*parse_fn)(const char *, size_t, const oci_parse_opts *, oci_diags *);
typedef char *(*emit_fn)(const void *, bool, size_t *, oci_diags *);
typedef void (*free_fn)(void *);

typedef struct {
	parse_fn parse;
	emit_fn emit;
	free_fn free;
} root_ops;

#define OPS(T) { (parse_fn)T##_parse_data, (emit_fn)T##_emit, (free_fn)T##_free }
static const root_ops config_ops = OPS(oci_config);
static const root_ops state_ops = OPS(oci_state);
static const root_ops features_ops = OPS(oci_features);
static const root_ops process_ops = OPS(oci_process);
static const root_ops status_ops = OPS(skiff_status);

/* Parses file, emits it (pretty and compact), checks the output means the
 * same as the input and that parsing it again emits the same bytes.
 * Returns the first parse for further checks. */
static void *roundtrip(const root_ops *ops, const char *file)
{
	size_t len, len1, len2, len3;
	oci_diags d = { 0 };
	char *doc = read_data(file, &len);
	void *v = ops->parse(doc, len, NULL, &d);
	char *out1, *out2, *compact;
	void *again;

	if (!v) {
		char *t = diags_text(&d);
		print_error("%s: %s\n", file, t);
		free(t);
	}
	assert_non_null(v);
	out1 = ops->emit(v, true, &len1, &d);
	assert_non_null(out1);
	assert_int_equal(strlen(out1), len1);
	assert_same_json(doc, len, out1, len1);

	again = ops->parse(out1, len1, NULL, &d);
	assert_non_null(again);
	out2 = ops->emit(again, true, &len2, &d);
	assert_string_equal(out1, out2);
	compact = ops->emit(again, false, &len3, &d);
	assert_non_null(compact);
	assert_null(strchr(compact, '\n'));
	assert_same_json(compact, len3, out1, len1);
	assert_int_equal(d.len, 0);

	ops->free(again);
	free(out1);
	free(out2);
	free(compact);
	free(doc);
	return v;
}

static void test_runc_spec(void **state)
{
	oci_config *c = roundtrip(&config_ops, "runc-spec.json");

	assert_string_equal(c->process->args[0], "sh");
	assert_true(c->process->terminal);
	assert_true(c->process->terminal_present);
	assert_int_equal(c->process->user->uid, 0);
	assert_int_equal(c->mounts_len, 7);
	assert_string_equal(c->mounts[0]->destination, "/proc");
	assert_int_equal(c->linux->namespaces_len, 5);
	assert_string_equal(c->linux->namespaces[0]->type, "pid");
	assert_true(c->root->readonly);
	oci_config_free(c);
}

static void test_podman_seccomp(void **state)
{
	oci_config *c = roundtrip(&config_ops, "podman-seccomp.json");
	oci_seccomp *s = c->linux->seccomp;

	assert_string_equal(s->default_action, "SCMP_ACT_ERRNO");
	assert_int_equal(s->default_errno_ret, 38);
	assert_true(s->default_errno_ret_present);
	assert_int_equal(s->architectures_len, 3);
	assert_int_equal(s->syscalls_len, 7);
	assert_true(s->syscalls[0]->names_len > 300);
	assert_int_equal(s->syscalls[3]->args[0]->value, 4294967295u);
	assert_string_equal(s->syscalls[4]->args[0]->op, "SCMP_CMP_MASKED_EQ");
	assert_int_equal(s->syscalls[5]->errno_ret, 22);
	assert_int_equal(c->process->user->additional_gids_len, 3);
	assert_int_equal(c->process->user->additional_gids[2], 27);
	assert_int_equal(c->linux->resources->memory->limit, 536870912);
	assert_string_equal(oci_string_map_get(c->annotations, "io.container.manager"), "libpod");
	oci_config_free(c);
}

static void test_all_fields(void **state)
{
	oci_config *c = roundtrip(&config_ops, "all-fields.json");
	oci_linux *l = c->linux;
	oci_resources *r = l->resources;

	assert_int_equal(c->process->oom_score_adj, -1000);
	assert_int_equal(c->process->rlimits[0]->hard, UINT64_MAX);
	assert_int_equal(c->process->scheduler->nice, -5);
	assert_string_equal(c->process->exec_cpu_affinity->final, "2-3");
	assert_int_equal(c->process->console_size->width, 80);
	assert_string_equal(c->process->io_priority->class, "IOPRIO_CLASS_IDLE");
	assert_int_equal(c->process->capabilities->inheritable_len, 0);
	assert_non_null(c->process->capabilities->inheritable);
	assert_int_equal(c->mounts[1]->uid_mappings[0]->host_id, 1000);
	assert_int_equal(c->hooks->poststop_len, 1);
	assert_int_equal(c->hooks->prestart[0]->timeout, 5);
	assert_string_equal(l->time_offsets->keys[0], "monotonic");
	assert_int_equal(l->time_offsets->values[0]->secs, -86400);
	assert_int_equal(l->time_offsets->values[0]->nanosecs, 500);
	assert_string_equal(l->net_devices->values[0]->name, "veth1");
	assert_null(l->net_devices->values[1]->name);
	assert_int_equal(l->devices[0]->file_mode, 438);
	assert_int_equal(r->memory->kernel_tcp, -1);
	assert_false(r->memory->disable_oom_killer);
	assert_true(r->memory->disable_oom_killer_present);
	assert_true(r->memory->check_before_update);
	assert_int_equal(r->cpu->burst, 1000);
	assert_int_equal(r->block_io->throttle_read_iops_device[0]->rate, 300);
	assert_int_equal(r->block_io->weight_device[1]->leaf_weight_present, false);
	assert_int_equal(r->network->class_id, 1048577);
	assert_int_equal(r->pids->limit, 32771);
	assert_int_equal(r->hugepage_limits[0]->limit, 9223372036854771712ULL);
	assert_string_equal(r->rdma->keys[1], "mlx4_0");
	assert_int_equal(r->rdma->values[0]->hca_handles, 3);
	assert_false(r->rdma->values[1]->hca_handles_present);
	assert_string_equal(oci_string_map_get(r->unified, "memory.high"), "1073741824");
	assert_int_equal(l->seccomp->syscalls[0]->args[0]->value, UINT64_MAX);
	assert_string_equal(l->seccomp->listener_metadata, "meta");
	assert_string_equal(l->intel_rdt->clos_id, "guaranteed_group");
	assert_string_equal(l->intel_rdt->l3_cache_schema, "L3:0=7f0;1=1f");
	assert_true(l->intel_rdt->enable_monitoring);
	assert_string_equal(l->personality->domain, "LINUX32");
	assert_string_equal(l->memory_policy->flags[0], "MPOL_F_STATIC_NODES");
	assert_string_equal(oci_string_map_get(l->sysctl, "net.ipv4.ip_forward"), "1");
	assert_string_equal(l->readonly_paths[0], "/proc/sys");
	oci_config_free(c);
}

/* Members we do not know survive at every level, with their values intact. */
static void test_unknown_members(void **state)
{
	const char *doc = "{\"ociVersion\":\"1.0\",\"zz\":{\"n\":[1.5e3,-0,null,true]},"
			  "\"process\":{\"cwd\":\"/\",\"future\":\"x\\ty\"},"
			  "\"mounts\":[{\"destination\":\"/a\"},{\"destination\":\"/b\",\"new\":[]}]}";
	oci_config *c = oci_config_parse_data(doc, strlen(doc), NULL, NULL);
	size_t len;
	char *out;

	assert_non_null(c);
	out = oci_config_emit(c, false, &len, NULL);
	assert_string_equal(out, "{\"ociVersion\":\"1.0\",\"process\":{\"cwd\":\"/\",\"future\":"
				 "\"x\\ty\"},\"mounts\":[{\"destination\":\"/a\"},{\"destination\":"
				 "\"/b\",\"new\":[]}],\"zz\":{\"n\":[1.5e3,-0,null,true]}}");
	free(out);
	oci_config_free(c);
}

static void test_state(void **state)
{
	oci_state *s = roundtrip(&state_ops, "state.json");

	assert_string_equal(s->status, "running");
	assert_int_equal(s->pid, 4422);
	assert_string_equal(s->owner, "");
	oci_state_free(s);
}

static void test_features(void **state)
{
	oci_features *f = roundtrip(&features_ops, "runc-features.json");

	assert_string_equal(f->oci_version_min, "1.0.0");
	assert_true(f->linux->cgroup->v2);
	assert_true(f->linux->seccomp->actions_len > 3);
	assert_non_null(f->linux->apparmor);
	oci_features_free(f);
}

static void test_process(void **state)
{
	oci_process *p = roundtrip(&process_ops, "process.json");

	assert_string_equal(p->args[1], "aux");
	assert_true(p->no_new_privileges);
	oci_process_free(p);
}

static void test_skiff_status(void **state)
{
	skiff_status *s = roundtrip(&status_ops, "skiff-status.json");

	assert_int_equal(s->pid_start, 987654321);
	assert_string_equal(s->cgroup_manager, "systemd");
	assert_true(s->systemd);
	assert_string_equal(s->status_override, "stopped");
	skiff_status_free(s);
}

int run_roundtrip_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_runc_spec),
		cmocka_unit_test(test_podman_seccomp),
		cmocka_unit_test(test_all_fields),
		cmocka_unit_test(test_unknown_members),
		cmocka_unit_test(test_state),
		cmocka_unit_test(test_features),
		cmocka_unit_test(test_process),
		cmocka_unit_test(test_skiff_status),
	};
	return cmocka_run_group_tests_name("roundtrip", tests, NULL, NULL);
}
