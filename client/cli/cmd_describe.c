/*
 * onboard describe [SYMBOL]: the contract as the server describes it, read from its reflection
 * (Reflection/GetFileDescriptorSet) and printed as .proto source, as `grpcurl describe` does:
 * every service without a symbol; a service, a method ("onboard.v1.Onboarding.GetCohort" or
 * "/onboard.v1.Onboarding/GetCohort"), a message or an enum by its full name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "descriptor.pb-c.h"
#include "onboard/v1/reflection.pb-c.h"

typedef Onboard__Cli__FileDescriptorProto file_t;
typedef Onboard__Cli__DescriptorProto message_t;
typedef Onboard__Cli__EnumDescriptorProto enum_t;
typedef Onboard__Cli__ServiceDescriptorProto service_t;
typedef Onboard__Cli__MethodDescriptorProto method_t;

static void print_method(const method_t *m, const char *indent)
{
	printf("%srpc %s ( %s%s ) returns ( %s%s )", indent, m->name,
	       m->has_client_streaming && m->client_streaming ? "stream " : "", m->input_type,
	       m->has_server_streaming && m->server_streaming ? "stream " : "", m->output_type);
	static const char *const levels[] = {NULL, "NO_SIDE_EFFECTS", "IDEMPOTENT"};
	int level = m->options != NULL && m->options->has_idempotency_level
	                    ? m->options->idempotency_level
	                    : 0;
	if (level == 1 || level == 2)
		printf(" {\n%s  option idempotency_level = %s;\n%s}\n", indent, levels[level],
		       indent);
	else
		printf(";\n");
}

static void print_service(const service_t *s)
{
	printf("service %s {\n", s->name);
	for (size_t i = 0; i < s->n_method; i++)
		print_method(s->method[i], "  ");
	printf("}\n");
}

static void print_enum(const enum_t *e, int depth)
{
	printf("%*senum %s {\n", 2 * depth, "", e->name);
	for (size_t i = 0; i < e->n_value; i++)
		printf("%*s  %s = %d;\n", 2 * depth, "", e->value[i]->name, e->value[i]->number);
	printf("%*s}\n", 2 * depth, "");
}

/* descriptor.proto's Type, by number. */
static const char *scalar_name(int type)
{
	static const char *const names[] = {
	        NULL,      "double",   "float",    "int64",  "uint64",  "int32", "fixed64",
	        "fixed32", "bool",     "string",   "group",  "message", "bytes", "uint32",
	        "enum",    "sfixed32", "sfixed64", "sint32", "sint64",
	};
	return type > 0 && type < (int)(sizeof(names) / sizeof(names[0])) ? names[type] : "?";
}

static void print_field(const Onboard__Cli__FieldDescriptorProto *f, int depth, bool proto3)
{
	const char *label = f->label == 3   ? "repeated "
	                    : f->label == 2 ? "required "
	                    : !proto3 || (f->has_proto3_optional && f->proto3_optional)
	                            ? "optional "
	                            : "";
	printf("%*s%s%s %s = %d;\n", 2 * depth, "", label,
	       f->type_name != NULL ? f->type_name : scalar_name(f->type), f->name, f->number);
}

static void print_message(const message_t *m, int depth, bool proto3)
{
	printf("%*smessage %s {\n", 2 * depth, "", m->name);
	for (size_t i = 0; i < m->n_field; i++) {
		const Onboard__Cli__FieldDescriptorProto *f = m->field[i];
		if (!f->has_oneof_index || (f->has_proto3_optional && f->proto3_optional)) {
			print_field(f, depth + 1, proto3);
			continue;
		}
		/* A oneof is printed where its first member is, with all its members. */
		bool first = true;
		for (size_t k = 0; k < i; k++)
			if (m->field[k]->has_oneof_index &&
			    m->field[k]->oneof_index == f->oneof_index)
				first = false;
		if (!first || (size_t)f->oneof_index >= m->n_oneof_decl)
			continue;
		printf("%*soneof %s {\n", 2 * depth + 2, "", m->oneof_decl[f->oneof_index]->name);
		for (size_t k = i; k < m->n_field; k++)
			if (m->field[k]->has_oneof_index &&
			    m->field[k]->oneof_index == f->oneof_index)
				print_field(m->field[k], depth + 2, true);
		printf("%*s}\n", 2 * depth + 2, "");
	}
	for (size_t i = 0; i < m->n_nested_type; i++)
		print_message(m->nested_type[i], depth + 1, proto3);
	for (size_t i = 0; i < m->n_enum_type; i++)
		print_enum(m->enum_type[i], depth + 1);
	printf("%*s}\n", 2 * depth, "");
}

/* Whether full is prefix + "." + name. */
static bool is_named(const char *full, const char *prefix, const char *name)
{
	size_t n = strlen(prefix);
	if (n > 0 && (strncmp(full, prefix, n) != 0 || full[n] != '.'))
		return false;
	return strcmp(full + (n > 0 ? n + 1 : 0), name) == 0;
}

/* Looks sym up among the messages and enums of ms (under scope); prints it when found. */
static bool find_type(const char *sym, const char *scope, message_t *const *ms, size_t n_ms,
                      enum_t *const *es, size_t n_es, bool proto3)
{
	for (size_t i = 0; i < n_es; i++)
		if (is_named(sym, scope, es[i]->name)) {
			printf("%s is an enum:\n", sym);
			print_enum(es[i], 0);
			return true;
		}
	for (size_t i = 0; i < n_ms; i++) {
		if (is_named(sym, scope, ms[i]->name)) {
			printf("%s is a message:\n", sym);
			print_message(ms[i], 0, proto3);
			return true;
		}
		char inner[512];
		snprintf(inner, sizeof(inner), "%s%s%s", scope, scope[0] != '\0' ? "." : "",
		         ms[i]->name);
		if (find_type(sym, inner, ms[i]->nested_type, ms[i]->n_nested_type,
		              ms[i]->enum_type, ms[i]->n_enum_type, proto3))
			return true;
	}
	return false;
}

static bool find_service(const char *sym, const file_t *f)
{
	const char *pkg = f->package != NULL ? f->package : "";
	for (size_t i = 0; i < f->n_service; i++) {
		const service_t *s = f->service[i];
		if (is_named(sym, pkg, s->name)) {
			printf("%s is a service:\n", sym);
			print_service(s);
			return true;
		}
		char full[512];
		snprintf(full, sizeof(full), "%s%s%s", pkg, pkg[0] != '\0' ? "." : "", s->name);
		for (size_t m = 0; m < s->n_method; m++)
			if (is_named(sym, full, s->method[m]->name)) {
				printf("%s is a method:\n", sym);
				print_method(s->method[m], "");
				return true;
			}
	}
	return false;
}

static int describe_print(cli *c, const cli_args *a, const ProtobufCMessage *reply)
{
	const Onboard__V1__GetFileDescriptorSetResponse *r = (const void *)reply;
	Onboard__Cli__FileDescriptorSet *fds = onboard__cli__file_descriptor_set__unpack(
	        NULL, r->file_descriptor_set.len, r->file_descriptor_set.data);
	if (fds == NULL)
		return cli_fail(c, "the server's descriptor set cannot be read");
	/* "/pkg.Service/Method" and ".pkg.Message" name what "pkg.Service.Method" and
	 * "pkg.Message" do. */
	char sym[512] = "";
	const char *arg = cli_arg(a, 0);
	if (arg != NULL) {
		snprintf(sym, sizeof(sym), "%s", arg + (arg[0] == '.' || arg[0] == '/'));
		for (char *p = strchr(sym, '/'); p != NULL; p = strchr(p, '/'))
			*p = '.';
	}
	bool found = false;
	for (size_t i = 0; i < fds->n_file && (!found || sym[0] == '\0'); i++) {
		const file_t *f = fds->file[i];
		if (sym[0] == '\0') {
			for (size_t s = 0; s < f->n_service; s++) {
				printf("%s%s.%s is a service:\n", found ? "\n" : "", f->package,
				       f->service[s]->name);
				print_service(f->service[s]);
				found = true;
			}
			continue;
		}
		found = find_service(sym, f) ||
		        find_type(sym, f->package != NULL ? f->package : "", f->message_type,
		                  f->n_message_type, f->enum_type, f->n_enum_type, true);
	}
	onboard__cli__file_descriptor_set__free_unpacked(fds, NULL);
	if (!found && sym[0] != '\0')
		return cli_fail(c,
		                "the server describes no symbol '%s'; 'onboard describe' lists "
		                "the services",
		                sym);
	return OB_EXIT_OK;
}

static const cli_operand describe_operands[] = {
        {"SYMBOL", .kind = CLI_STRING, .optional = true},
        {NULL},
};

const cli_command cli_cmd_describe = {
        .name = "describe",
        .summary = "print a service, method, message or enum from the server's reflection",
        .synopsis = "[SERVICE|METHOD|MESSAGE|ENUM]",
        .about = "Prints the contract as the server describes it (its reflection service), as\n"
                 ".proto source, as grpcurl describe does: every service without a SYMBOL;\n"
                 "otherwise the service, method (onboard.v1.Onboarding.GetCohort or\n"
                 "/onboard.v1.Onboarding/GetCohort), message or enum of that full name.\n",
        .after = "The .proto files themselves are installed in PREFIX/share/onboard/proto.\n"
                 "Exit status: 0; 1 for a symbol the server does not describe.\n",
        .operands = describe_operands,
        .method = "/onboard.v1.Reflection/GetFileDescriptorSet",
        .print = describe_print,
};
