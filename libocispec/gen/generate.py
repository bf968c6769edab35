#!/usr/bin/env python3
"""Generate ocispec-gen.h / ocispec-gen.c from the libocispec/spec/ files.

The output is table-driven: each type becomes a struct plus a constant
field table, and the generic code in libocispec/src/ parses, emits and frees
through those tables. That keeps the generated code (and the binary) small.
See spec/README for the description language.

usage: generate.py --header OUT.h --source OUT.c SPEC.def...
"""

import argparse
import os
import re
import sys

SCALARS = {
    # spec name: (C type, kind constant)
    "string": ("char *", "OCI_K_STRING"),
    "bool": ("bool", "OCI_K_BOOL"),
    "int": ("int", "OCI_K_INT"),
    "int32": ("int32_t", "OCI_K_INT32"),
    "uint16": ("uint16_t", "OCI_K_UINT16"),
    "uint32": ("uint32_t", "OCI_K_UINT32"),
    "id": ("uint32_t", "OCI_K_ID"),  # uid/gid: uint32 without 4294967295 ((uid_t)-1)
    "int64": ("int64_t", "OCI_K_INT64"),
    "uint64": ("uint64_t", "OCI_K_UINT64"),
}

C_KEYWORDS = set("""auto break case char const continue default do double else enum
extern float for goto if inline int long register restrict return short signed
sizeof static struct switch typedef union unsigned void volatile while _Bool
bool true false""".split())

MAX_FIELDS = 64  # decode.c tracks seen members in a uint64_t


class SpecError(Exception):
    pass


class Field:
    def __init__(self, json, cname, base, shape, required, enum, keys):
        self.json = json
        self.cname = cname
        self.base = base  # scalar spec name or a type's C name
        self.shape = shape  # scalar | array | map
        self.required = required
        self.enum = enum
        self.keys = keys

    @property
    def is_object(self):
        return self.base not in SCALARS


class Type:
    def __init__(self, cname, root, where):
        self.cname = cname
        self.root = root
        self.where = where
        self.fields = []


def snake(name):
    """camelCase -> snake_case, keeping acronyms together (IOPSDevice ->
    iops_device, containerID -> container_id, l3CacheSchema -> l3_cache_schema)."""
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    return s.lower()


def parse_field(words, where):
    if len(words) < 2:
        raise SpecError(f"{where}: expected 'jsonName TYPE [options]'")
    json, spec = words[0], words[1]
    shape = "scalar"
    if spec.startswith("[]"):
        shape, spec = "array", spec[2:]
    elif spec.startswith("map[") and spec.endswith("]"):
        shape, spec = "map", spec[4:-1]
    required, enum, keys, cname = False, None, None, snake(json)
    for opt in words[2:]:
        if opt == "required":
            required = True
        elif opt.startswith("enum="):
            enum = opt[5:]
        elif opt.startswith("keys="):
            keys = opt[5:]
        elif opt.startswith("c="):
            cname = opt[2:]
        else:
            raise SpecError(f"{where}: unknown option {opt!r}")
    if cname in C_KEYWORDS:
        raise SpecError(f"{where}: member name {cname!r} is a C keyword; add c=NAME")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", cname):
        raise SpecError(f"{where}: bad C member name {cname!r}; add c=NAME")
    return Field(json, cname, spec, shape, required, enum, keys)


def parse_specs(paths):
    enums, types = {}, {}
    for path in paths:
        current = None
        with open(path, encoding="utf-8") as f:
            for lineno, raw in enumerate(f, 1):
                where = f"{path}:{lineno}"
                line = raw.split("#", 1)[0].rstrip()
                if not line:
                    continue
                words = line.split()
                if not raw[0].isspace():
                    current = start_block(words, where, enums, types)
                elif current is None:
                    raise SpecError(f"{where}: indented line outside a block")
                elif isinstance(current, list):
                    current.extend(words)
                else:
                    current.fields.append(parse_field(words, where))
    check(enums, types)
    return enums, types


def start_block(words, where, enums, types):
    if words[0] == "enum" and len(words) == 2:
        if words[1] in enums:
            raise SpecError(f"{where}: enum {words[1]} defined twice")
        enums[words[1]] = []
        return enums[words[1]]
    if words[0] == "type" and len(words) in (2, 3):
        if len(words) == 3 and words[2] != "root":
            raise SpecError(f"{where}: expected 'type NAME [root]'")
        if words[1] in types:
            raise SpecError(f"{where}: type {words[1]} defined twice")
        t = Type(words[1], len(words) == 3, where)
        types[t.cname] = t
        return t
    raise SpecError(f"{where}: expected 'enum NAME' or 'type NAME [root]'")


def check(enums, types):
    for t in types.values():
        if len(t.fields) > MAX_FIELDS:
            raise SpecError(f"{t.where}: {t.cname} has more than {MAX_FIELDS} members")
        seen_json, seen_c = set(), set()
        for f in t.fields:
            if f.json in seen_json or f.cname in seen_c:
                raise SpecError(f"{t.where}: {t.cname}.{f.json} declared twice")
            seen_json.add(f.json)
            seen_c.update([f.cname, f.cname + "_len", f.cname + "_present"])
            if f.is_object and f.base not in types:
                raise SpecError(f"{t.where}: {t.cname}.{f.json}: unknown type {f.base}")
            if f.shape == "map" and f.base not in types and f.base != "string":
                raise SpecError(f"{t.where}: {t.cname}.{f.json}: maps hold strings or objects")
            for e in (f.enum, f.keys):
                if e is not None and e not in enums:
                    raise SpecError(f"{t.where}: {t.cname}.{f.json}: unknown enum {e}")
            if f.enum and f.base != "string":
                raise SpecError(f"{t.where}: {t.cname}.{f.json}: enum= needs strings")
            if f.keys and f.shape != "map":
                raise SpecError(f"{t.where}: {t.cname}.{f.json}: keys= needs a map")


def map_type(f):
    if f.base == "string":
        return "oci_string_map"
    return f.base + "_map"


def member_decls(f):
    """C declarations for one field, with the JSON name as a comment."""
    notes = ([f.json] if f.json != f.cname else []) + (["required"] if f.required else [])
    note = f" /* {', '.join(notes)} */" if notes else ""
    if f.shape == "map":
        return [f"{map_type(f)} *{f.cname};{note}"]
    ctype = f"{f.base} *" if f.is_object else SCALARS[f.base][0]
    if f.shape == "array":
        return [f"{ctype}*{f.cname};{note}".replace("* *", "**"),
                f"size_t {f.cname}_len;"]
    decl = [f"{ctype}{'' if ctype.endswith('*') else ' '}{f.cname};{note}"]
    if not f.is_object and f.base != "string" and not f.required:
        decl.append(f"bool {f.cname}_present;")
    return decl


def object_maps(types):
    maps = {}
    for t in types.values():
        for f in t.fields:
            if f.shape == "map" and f.is_object:
                maps[map_type(f)] = f.base
    return maps


ROOT_PROTOS = [
    "{T} *{T}_parse_data(const char *buf, size_t len, const oci_parse_opts *opts, oci_diags *diags)",
    "{T} *{T}_parse_file(const char *path, const oci_parse_opts *opts, oci_diags *diags)",
    "char *{T}_emit(const {T} *v, bool pretty, size_t *len_out, oci_diags *diags)",
    "bool {T}_position(const {T} *v, const char *json_path, unsigned *line, unsigned *col)",
]

ROOT_BODIES = [
    "return oci_parse_data(&t_{T}, buf, len, opts, diags);",
    "return oci_parse_file(&t_{T}, path, opts, diags);",
    "return oci_encode_root(&t_{T}, v, pretty, len_out, diags);",
    "return v && oci_positions_lookup(v->_positions, json_path, line, col);",
]

BANNER = "/* Generated by libocispec/gen/generate.py from the libocispec/spec/ files.\n * Do not edit: change the description and rebuild. */\n"


def gen_header(enums, types):
    out = [BANNER, "#ifndef OCISPEC_GEN_H", "#define OCISPEC_GEN_H", "",
           "/* Included by ocispec.h, which defines the types used here. */", ""]
    maps = object_maps(types)
    for name in types:
        out.append(f"typedef struct {name} {name};")
    for name in maps:
        out.append(f"typedef struct {name} {name};")
    out.append("")
    out.append("/* Allowed values of the enumerated strings, NULL-terminated. */")
    for name in enums:
        out.append(f"extern const char *const oci_{name}_values[];")
    out.append("")
    for name, value in maps.items():
        out += [f"struct {name} {{", "\tchar **keys;", f"\t{value} **values;",
                "\tsize_t len;", "};", f"void {name}_free({name} *m);", ""]
    for t in types.values():
        out.append(f"struct {t.cname} {{")
        for f in t.fields:
            out += ["\t" + d for d in member_decls(f)]
        out.append("\tstruct oci_json *_unknown; /* private: members we do not know */")
        if t.root:
            out.append("\tstruct oci_positions *_positions; /* private */")
        out += ["};", f"void {t.cname}_free({t.cname} *v);"]
        if t.root:
            out += [p.format(T=t.cname) + ";" for p in ROOT_PROTOS]
        out.append("")
    out.append("#endif")
    return "\n".join(out) + "\n"


def field_entry(t, f):
    aux = "0"
    if f.shape == "array":
        aux = f"offsetof({t.cname}, {f.cname}_len)"
    elif f.shape == "scalar" and "bool " + f.cname + "_present;" in member_decls(f):
        aux = f"offsetof({t.cname}, {f.cname}_present)"
    shape = {"scalar": "OCI_S_SCALAR", "array": "OCI_S_ARRAY", "map": "OCI_S_MAP"}[f.shape]
    kind = "OCI_K_OBJECT" if f.is_object else SCALARS[f.base][1]
    flags = "OCI_F_REQUIRED" if f.required else "0"
    sub = f"&t_{f.base}" if f.is_object else "NULL"
    values = f"&e_{f.enum}" if f.enum else "NULL"
    keys = f"&e_{f.keys}" if f.keys else "NULL"
    return (f'\t{{ "{f.json}", offsetof({t.cname}, {f.cname}), {aux},\n'
            f"\t  {shape}, {kind}, {flags}, {sub}, {values}, {keys} }},")


def gen_source(enums, types):
    out = [BANNER, '#include "oci-internal.h"', "", "#include <stddef.h>", ""]
    for name, values in enums.items():
        quoted = ", ".join(f'"{v}"' for v in values)
        out += [f"const char *const oci_{name}_values[] = {{ {quoted}, NULL }};",
                f'static const oci_enum e_{name} = {{ "{name}", oci_{name}_values }};']
    out.append("")
    # tentative definitions: the tables refer to each other
    for name in types:
        out.append(f"static const oci_type t_{name};")
    out.append("")
    for t in types.values():
        out.append(f"static const oci_field f_{t.cname}[] = {{")
        out += [field_entry(t, f) for f in t.fields]
        out.append("};")
        pos = f"offsetof({t.cname}, _positions)" if t.root else "0"
        out += [f"static const oci_type t_{t.cname} = {{",
                f'\t"{t.cname}", sizeof({t.cname}), {len(t.fields)},',
                f"\toffsetof({t.cname}, _unknown), {pos}, f_{t.cname}",
                "};", ""]
    for name, value in object_maps(types).items():
        out += [f"void {name}_free({name} *m)", "{",
                f"\toci_map_free(OCI_K_OBJECT, &t_{value}, m);", "}", ""]
    for t in types.values():
        out += [f"void {t.cname}_free({t.cname} *v)", "{",
                f"\toci_free_object(&t_{t.cname}, v);", "}", ""]
        if t.root:
            for proto, body in zip(ROOT_PROTOS, ROOT_BODIES):
                out += [proto.format(T=t.cname), "{", "\t" + body.format(T=t.cname), "}", ""]
    return "\n".join(out)


def write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--header", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("specs", nargs="+")
    args = ap.parse_args()
    try:
        enums, types = parse_specs(args.specs)
    except (SpecError, OSError) as e:
        print(f"generate.py: {e}", file=sys.stderr)
        return 1
    # source first: the make rule for the header depends on the source
    write(args.source, gen_source(enums, types))
    write(args.header, gen_header(enums, types))
    return 0


if __name__ == "__main__":
    sys.exit(main())
