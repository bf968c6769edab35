/* runtime-spec's plain MUSTs on config.json's own values, which no other
   step of create meets on its way: one list, which create runs to its
   first error and check runs whole. */
#include "config.h"
#include "config-rules.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* config.md: ociVersion MUST be SemVer 2.0.0: MAJOR.MINOR.PATCH without
   leading zeros, then an optional -prerelease and +build of [0-9A-Za-z.-]. */
static bool
semver_ok (const char *v)
{
  const char *p = v;
  for (int part = 0; part < 3; part++)
    {
      if (!isdigit ((unsigned char)*p) || (p[0] == '0' && isdigit ((unsigned char)p[1])))
        return false;
      while (isdigit ((unsigned char)*p))
        p++;
      if (part < 2 && *p++ != '.')
        return false;
    }
  if (*p == '-' || *p == '+')
    {
      if (p[1] == '\0')
        return false;
      for (p++; *p; p++)
        if (!isalnum ((unsigned char)*p) && *p != '.' && *p != '-' && *p != '+')
          return false;
    }
  return *p == '\0';
}

static int
rule_version (const oci_config *c, config_rule_emit emit, void *data)
{
  skiff_error_t e = NULL;
  if (c->oci_version && !semver_ok (c->oci_version))
    {
      skiff_error_kind_set (&e, SKIFF_ERR_INVALID_CONFIG, 0,
                            "ociVersion: `%s` is not a SemVer 2.0.0 version (e.g. 1.3.0)",
                            c->oci_version);
      return emit (data, &e);
    }
  return 0;
}

static int
rule_annotations (const oci_config *c, config_rule_emit emit, void *data)
{
  for (size_t i = 0; c->annotations && i < c->annotations->len; i++)
    if (c->annotations->keys[i][0] == '\0')
      {
        skiff_error_t e = NULL;
        skiff_error_kind_set (&e, SKIFF_ERR_INVALID_CONFIG, 0,
                              "annotations[\"\"]: a key must not be empty");
        if (emit (data, &e) < 0)
          return -1;
      }
  return 0;
}

static int
rule_hooks_of (const char *phase, oci_hook **h, size_t n, config_rule_emit emit, void *data)
{
  for (size_t i = 0; i < n; i++)
    {
      skiff_error_t e = NULL;
      if (h[i]->path[0] != '/')
        skiff_error_kind_set (&e, SKIFF_ERR_INVALID_CONFIG, 0,
                              "hooks.%s[%zu].path: `%s` must be an absolute path", phase, i,
                              h[i]->path);
      else if (h[i]->timeout_present && h[i]->timeout <= 0)
        skiff_error_kind_set (&e, SKIFF_ERR_INVALID_CONFIG, 0,
                              "hooks.%s[%zu].timeout: %d: must be a number of seconds above 0",
                              phase, i, h[i]->timeout);
      if (e && emit (data, &e) < 0)
        return -1;
    }
  return 0;
}

static int
rule_hooks (const oci_config *c, config_rule_emit emit, void *data)
{
  const oci_hooks *h = c->hooks;
  if (h == NULL)
    return 0;
  if (rule_hooks_of ("prestart", h->prestart, h->prestart_len, emit, data) < 0
      || rule_hooks_of ("createRuntime", h->create_runtime, h->create_runtime_len, emit, data) < 0
      || rule_hooks_of ("createContainer", h->create_container, h->create_container_len, emit, data)
             < 0
      || rule_hooks_of ("startContainer", h->start_container, h->start_container_len, emit, data)
             < 0
      || rule_hooks_of ("poststart", h->poststart, h->poststart_len, emit, data) < 0)
    return -1;
  return rule_hooks_of ("poststop", h->poststop, h->poststop_len, emit, data);
}

static int
absolute_each (const char *key, char **v, size_t n, config_rule_emit emit, void *data)
{
  for (size_t i = 0; i < n; i++)
    if (v[i] == NULL || v[i][0] != '/')
      {
        skiff_error_t e = NULL;
        skiff_error_kind_set (&e, SKIFF_ERR_INVALID_CONFIG, 0,
                              "%s[%zu]: `%s` must be an absolute path in the container", key, i,
                              v[i] ? v[i] : "");
        if (emit (data, &e) < 0)
          return -1;
      }
  return 0;
}

/* config-linux.md: a namespace path, maskedPaths and readonlyPaths MUST
   be absolute. */
static int
rule_linux_paths (const oci_config *c, config_rule_emit emit, void *data)
{
  const oci_linux *l = c->linux;
  if (l == NULL)
    return 0;
  for (size_t i = 0; i < l->namespaces_len; i++)
    if (l->namespaces[i]->path && l->namespaces[i]->path[0] != '/')
      {
        skiff_error_t e = NULL;
        skiff_error_kind_set (&e, SKIFF_ERR_INVALID_CONFIG, 0,
                              "linux.namespaces[%zu].path: `%s` must be an absolute path", i,
                              l->namespaces[i]->path);
        if (emit (data, &e) < 0)
          return -1;
      }
  if (absolute_each ("linux.maskedPaths", l->masked_paths, l->masked_paths_len, emit, data) < 0)
    return -1;
  return absolute_each ("linux.readonlyPaths", l->readonly_paths, l->readonly_paths_len, emit,
                        data);
}

int
config_rules_run (const oci_config *c, config_rule_emit emit, void *data)
{
  static int (*const rules[]) (const oci_config *, config_rule_emit, void *)
      = { rule_version, rule_annotations, rule_hooks, rule_linux_paths };
  for (size_t i = 0; i < sizeof rules / sizeof *rules; i++)
    if (rules[i](c, emit, data) < 0)
      return -1;
  return 0;
}

static int
keep_first (void *data, skiff_error_t *e)
{
  *(skiff_error_t *)data = *e;
  *e = NULL;
  return -1;
}

int
config_rules_check (const oci_config *c, skiff_error_t *err)
{
  return config_rules_run (c, keep_first, err);
}
