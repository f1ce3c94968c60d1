/* SPDX-License-Identifier: MIT */
/* What the KVM tests share (test_kvm.c, test_kvm_root.c). */
#ifndef HVLOG_TESTS_KVM_TEST_UTIL_H
#define HVLOG_TESTS_KVM_TEST_UTIL_H

#include <stdint.h>

/*
 * count_dir - the entries of @path (/proc/self/fd or /proc/self/task);
 * with @kvm_fds, also adds to it those whose link names a KVM object
 * (/dev/kvm, anon_inode:kvm-vm, kvm-vcpu): what teardown must give back.
 */
uint32_t count_dir(const char *path, uint32_t *kvm_fds);

#endif
