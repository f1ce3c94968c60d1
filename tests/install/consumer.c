/* A program outside the tree, built against the installed hvlog. */
#include <hvlog/hvlog.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    char buf[HVLOG_STATUS_NAME_MAX];
    const struct hvlog_call_info *flush = hvlog_call_info(0x0068);

    if (strcmp(hvlog_version(), HVLOG_VERSION_STRING) != 0)
        return 1;
    if (!flush || strcmp(flush->name, "HvFlushEventLogBuffer") != 0)
        return 2;
    if (strcmp(hvlog_status_format(HV_STATUS_OBJECT_IN_USE, buf, sizeof buf),
               "HV_STATUS_OBJECT_IN_USE") != 0)
        return 3;
    printf("consumer ok: hvlog %s\n", hvlog_version());
    return 0;
}
