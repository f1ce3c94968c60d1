/* A program outside the tree, built against the installed hvlog. It reaches
 * the export layer too, so a static link needs hvlog's private dependency
 * (jansson, which reads the metadata). */
#include <hvlog/trace/trace.h>
#include <hvlog/hvlog.h>
#include <stdio.h>
#include <string.h>

static const char meta_text[] =
    "{\"format\":\"hvlog-trace\",\"version\":1,\"host\":{\"seed\":18446744073709551615},"
    "\"groups\":[{\"type\":1,\"file\":\"local.buffers\",\"header_convention\":\"2013\","
    "\"buffer_pages\":4}]}";

int main(void)
{
    char buf[HVLOG_STATUS_NAME_MAX];
    const struct hvlog_call_info *flush = hvlog_call_info(0x0068);
    struct hvlog_trace_meta meta;
    struct hvlog_export_error err;
    int bad_meta;

    if (strcmp(hvlog_version(), HVLOG_VERSION_STRING) != 0)
        return 1;
    if (!flush || strcmp(flush->name, "HvFlushEventLogBuffer") != 0)
        return 2;
    if (strcmp(hvlog_status_format(HV_STATUS_OBJECT_IN_USE, buf, sizeof buf),
               "HV_STATUS_OBJECT_IN_USE") != 0)
        return 3;
    bad_meta = hvlog_trace_meta_parse(meta_text, sizeof meta_text - 1, &meta, &err) !=
                   HVLOG_EXPORT_OK ||
               meta.host.seed != UINT64_MAX || meta.groups[0].buffer_pages != 4;
    hvlog_trace_meta_release(&meta);
    if (bad_meta)
        return 4;
    printf("consumer ok: hvlog %s\n", hvlog_version());
    return 0;
}
