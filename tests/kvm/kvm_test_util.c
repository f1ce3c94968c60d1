/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "kvm_test_util.h"

uint32_t count_dir(const char *path, uint32_t *kvm_fds)
{
    DIR *d = opendir(path);
    struct dirent *de;
    uint32_t n = 0;

    assert_non_null(d);
    while ((de = readdir(d)) != NULL) {
        char link[300], target[256];
        ssize_t len;

        if (de->d_name[0] == '.')
            continue;
        n++;
        if (!kvm_fds)
            continue;
        snprintf(link, sizeof link, "%s/%s", path, de->d_name);
        len = readlink(link, target, sizeof target - 1);
        if (len <= 0)
            continue;
        target[len] = '\0';
        if (strstr(target, "kvm"))
            (*kvm_fds)++;
    }
    closedir(d);
    return n;
}
