/* SPDX-License-Identifier: MIT */
/*
 * What the bytes mean: message types, event-source enable flags and the
 * entry-type catalogue (spec §2.2, §4.8, D7, D8).
 *
 * The engine never interprets entry types; decoders print their names and
 * parameter names from here. Unknown values are never an error: the lookups
 * return NULL and printers fall back to hex.
 */
#ifndef HVLOG_ABI_CATALOG_H
#define HVLOG_ABI_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "hvlog/visibility.h"

HVLOG_BEGIN_DECLS

/* §2.2 HV_MESSAGE_TYPE values used by the facility. */
#define HV_MESSAGE_TYPE_TABLE(X)                                                   \
    X(HvMessageTypeNone, 0x00000000u, "None")                                      \
    X(HvMessageTypeEventLogBufferComplete, 0x80000040u, "EventLogBufferComplete")

enum hv_message_type {
#define HVLOG_X_MSG_ENUM(name, value, text) name = (value),
    HV_MESSAGE_TYPE_TABLE(HVLOG_X_MSG_ENUM)
#undef HVLOG_X_MSG_ENUM
};
/* Types with the high bit set are the hypervisor's; guests cannot post them. */
#define HV_MESSAGE_TYPE_HYPERVISOR_MASK 0x80000000u

HVLOG_API const char *hvlog_message_type_name(uint32_t type);

/*
 * §4.8 event-source enable flags, per log type. Columns: log type, spec name,
 * value, short name for the CLI, origin (2013 = [DOC], HDR = later headers).
 * A mask may hold any bits (DEC-SRC): the names are for people.
 */
#define HV_EVENTLOG_ENABLE_FLAG_TABLE(X)                                                         \
    X(1, HV_EVENTLOG_ENABLE_DIAG_ADMIN, 0x0000000000000001ull, "admin", 2013)                    \
    X(1, HV_EVENTLOG_ENABLE_DIAG_PERF_GENERAL, 0x0000000100000000ull, "perf-general", 2013)      \
    X(0, HV_EVENTLOG_ENABLE_SYSTEM_SUCCESS, 0x0000000000000001ull, "success", 2013)              \
    X(0, HV_EVENTLOG_ENABLE_SYSTEM_FAILURE, 0x0000000000000002ull, "failure", 2013)              \
    X(0, HV_EVENTLOG_ENABLE_PARTITION, 0x0000000000000004ull, "partition", HDR)                  \
    X(0, HV_EVENTLOG_ENABLE_TEST, 0x8000000000000000ull, "test", HDR)                            \
    X(1, HV_TR_GROUP_BM, 0x0000000000000100ull, "bm", HDR)                                       \
    X(1, HV_TR_GROUP_DM, 0x0000000000000200ull, "dm", HDR)                                       \
    X(1, HV_TR_GROUP_HC, 0x0000000000000400ull, "hc", HDR)                                       \
    X(1, HV_TR_GROUP_IM, 0x0000000000000800ull, "im", HDR)                                       \
    X(1, HV_TR_GROUP_IC, 0x0000000000001000ull, "ic", HDR)                                       \
    X(1, HV_TR_GROUP_OB, 0x0000000000002000ull, "ob", HDR)                                       \
    X(1, HV_TR_GROUP_PT, 0x0000000000004000ull, "pt", HDR)                                       \
    X(1, HV_TR_GROUP_VP, 0x0000000000008000ull, "vp", HDR)                                       \
    X(1, HV_TR_GROUP_SYNIC, 0x0000000000010000ull, "synic", HDR)                                 \
    X(1, HV_TR_GROUP_SYNIC_TI, 0x0000000000020000ull, "synic-ti", HDR)                           \
    X(1, HV_TR_GROUP_AM_GVA, 0x0000000000040000ull, "am-gva", HDR)                               \
    X(1, HV_TR_GROUP_AM, 0x0000000000080000ull, "am", HDR)                                       \
    X(1, HV_TR_GROUP_VAL, 0x0000000000100000ull, "val", HDR)                                     \
    X(1, HV_TR_GROUP_VM, 0x0000000000200000ull, "vm", HDR)                                       \
    X(1, HV_TR_GROUP_SCH, 0x0000000000400000ull, "sch", HDR)                                     \
    X(1, HV_TR_GROUP_TH, 0x0000000000800000ull, "th", HDR)                                       \
    X(1, HV_TR_GROUP_TI, 0x0000000001000000ull, "ti", HDR)                                       \
    X(1, HV_TR_GROUP_KE, 0x0000000002000000ull, "ke", HDR)                                       \
    X(1, HV_TR_GROUP_MM, 0x0000000004000000ull, "mm", HDR)                                       \
    X(1, HV_TR_GROUP_PROFILER, 0x0000000008000000ull, "profiler", HDR)                           \
    X(1, HV_TR_GROUP_USCH, 0x0000000010000000ull, "usch", HDR)                                   \
    X(1, HV_TR_GROUP_GENERIC, 0x0000000020000000ull, "generic", HDR)

/* 64-bit values cannot be C11 enumerators: each flag is a typed constant. */
#define HVLOG_X_FLAG_DEFINE(logtype, name, value, shortname, origin) static const uint64_t name = (value);
HV_EVENTLOG_ENABLE_FLAG_TABLE(HVLOG_X_FLAG_DEFINE)
#undef HVLOG_X_FLAG_DEFINE

struct hvlog_enable_flag_info {
    uint32_t log_type;
    const char *name;       /* "HV_TR_GROUP_HC" */
    uint64_t value;
    const char *short_name; /* "hc" */
};

/** hvlog_enable_flag_at - the rows in table order; NULL past the end. */
HVLOG_API const struct hvlog_enable_flag_info *hvlog_enable_flag_at(size_t i);

/**
 * hvlog_enable_flag_find - the flag of @log_type whose short or spec name is
 * @name (ASCII case-insensitive); NULL if none.
 */
HVLOG_API const struct hvlog_enable_flag_info *hvlog_enable_flag_find(uint32_t log_type,
                                                                     const char *name);

/*
 * §4.8 entry-type catalogue. Columns: log type, entry type, spec name, the
 * source group that enables it (0 = none listed), and the parameter names in
 * payload order, comma-separated. hvlog's producers and decoders lay the
 * parameters out as consecutive little-endian u64s after the entry header
 * (the spec names parameters but gives no widths; this is our choice).
 */
#define HV_EVENTLOG_ENTRY_TYPE_TABLE(X)                                                               \
    X(1, 0x001A, HV_TR_HC_HYPERCALL, 0x400, "rip,input_value")                                       \
    X(1, 0x0020, HV_TR_IM_GUEST_EXCEPTION, 0x800, "rip,exception_type")                              \
    X(1, 0x0021, HV_TR_IM_MSR_READ, 0x800, "rip,msr_index,value")                                    \
    X(1, 0x0022, HV_TR_IM_MSR_WRITE, 0x800, "rip,msr_index,value")                                   \
    X(1, 0x0023, HV_TR_IM_CR_READ, 0x800, "rip,cr,value")                                            \
    X(1, 0x0024, HV_TR_IM_CR_WRITE, 0x800, "rip,cr,value")                                           \
    X(1, 0x0025, HV_TR_IM_HLT, 0x800, "rip")                                                         \
    X(1, 0x0026, HV_TR_IM_MWAIT, 0x800, "rip,extension,hint")                                        \
    X(1, 0x0027, HV_TR_IM_CPUID, 0x800, "rip,eax,ecx")                                               \
    X(1, 0x0028, HV_TR_IM_IO_PORT_READ, 0x800, "rip,port,value")                                     \
    X(1, 0x0029, HV_TR_IM_IO_PORT_WRITE, 0x800, "rip,port,value")                                    \
    X(1, 0x002A, HV_TR_IM_EXTERNAL_INTERRUPT, 0x800, "vector")                                       \
    X(1, 0x002B, HV_TR_IM_INTERRUPT_PENDING, 0x800, "rip")                                           \
    X(1, 0x002C, HV_TR_IM_GUEST_SHUTDOWN, 0x800, "")                                                 \
    X(1, 0x002D, HV_TR_IM_EMULATED_INSTRUCTION, 0x800, "")                                           \
    X(1, 0x002E, HV_TR_IM_NMI_INTERRUPT, 0x800, "")                                                  \
    X(1, 0x002F, HV_TR_IM_INVLPG, 0x800, "rip,gva")                                                  \
    X(1, 0x0030, HV_TR_IM_IRET, 0x800, "")                                                           \
    X(1, 0x0031, HV_TR_IM_TASK_SWITCH, 0x800, "")                                                    \
    X(1, 0x0032, HV_TR_IM_INVD, 0x800, "")                                                           \
    X(1, 0x0033, HV_TR_IM_DR_ACCESS, 0x800, "")                                                      \
    X(1, 0x0034, HV_TR_IM_FERR_FREEZE, 0x800, "")                                                    \
    X(1, 0x0035, HV_TR_IM_REAL_MODE_INTERRUPT, 0x800, "")                                            \
    X(1, 0x0036, HV_TR_IM_MEMORY_INTERCEPT, 0x800, "rip,gpa,intercept_type")                         \
    X(1, 0x0037, HV_TR_IM_REFLECTED_EXCEPTION, 0x800, "rip,exception_type")                          \
    X(1, 0x0040, HV_TR_OB_CREATE_PARTITION, 0x2000, "partition_id,status")                           \
    X(1, 0x0041, HV_TR_OB_DELETE_PARTITION, 0x2000, "partition_id,status")                           \
    X(1, 0x0046, HV_TR_PT_REFERENCE_TIME, 0x4000, "tsc_offset,reference_time_offset")                \
    X(1, 0x004B, HV_TR_VP_CREATE_VP, 0x8000, "partition_id,thread_id,status")                        \
    X(1, 0x004C, HV_TR_VP_DELETE_VP, 0x8000, "partition_id,thread_id,status")                        \
    X(1, 0x0070, HV_TR_AM_GVA_GROW_VIRTUAL_TLB, 0x40000, "old_size,new_size")                        \
    X(1, 0x0071, HV_TR_AM_GVA_SHRINK_VIRTUAL_TLB, 0x40000, "old_size,new_size,free")                 \
    X(1, 0x0072, HV_TR_AM_GVA_FLUSH_VIRTUAL_TLB, 0x40000, "partition_id")                            \
    X(1, 0x00B0, HV_TR_SCH_CONTEXT_SWITCH, 0x400000, "partition_id,thread_id,tsc_offset")            \
    X(1, 0x00E0, HV_TR_KE_OVERRUN, 0x2000000, "run_time,intercept_state,entering_guest,call_code")   \
    X(1, 0x00E1, HV_TR_KE_OVERRUN_PARAMS, 0x2000000, "param0,param1,param2,param3")                  \
    X(1, 0x00E2, HV_TR_KE_OVERRUN500, 0x2000000, "run_time,intercept_state,entering_guest,call_code") \
    X(1, 0x00E3, HV_TR_KE_OVERRUN500_PARAMS, 0x2000000, "param0,param1,param2,param3")               \
    X(1, 0x00F0, HV_TR_SCH_PROFILER_SAMPLE, 0x8000000, "partition_id,thread_id,tsc_offset")          \
    X(1, 0x00F1, HV_TR_PROFILER_HV_MODULE, 0x8000000, "")                                            \
    X(0, 0x4001, HV_EVENTLOG_ADMIN_TEST, 0x8000000000000000ull, "value")                             \
    X(0, 0x4101, HV_EVENTLOG_PARTITION_CREATED, 0x4, "partition_id")                                 \
    X(0, 0x4102, HV_EVENTLOG_PARTITION_DELETED, 0x4, "partition_id")                                 \
    X(0, 0x2103, HV_EVENTLOG_PARTITION_CREATION_FAILED, 0x4, "partition_id,status")

enum hv_eventlog_entry_type {
#define HVLOG_X_ENTRY_ENUM(logtype, value, name, group, params) name = (value),
    HV_EVENTLOG_ENTRY_TYPE_TABLE(HVLOG_X_ENTRY_ENUM)
#undef HVLOG_X_ENTRY_ENUM
};

struct hvlog_entry_type_info {
    uint32_t log_type;
    uint16_t entry_type;
    const char *name;   /* "HV_TR_IM_CPUID" */
    uint64_t group;     /* enabling source bit(s), 0 if none listed */
    const char *params; /* "rip,eax,ecx"; "" when none listed */
};

/** hvlog_entry_type_info - the catalogue row for (@log_type, @entry_type), or NULL. */
HVLOG_API const struct hvlog_entry_type_info *hvlog_entry_type_info(uint32_t log_type,
                                                                   uint16_t entry_type);

/** hvlog_entry_type_at - the rows in table order; NULL past the end. */
HVLOG_API const struct hvlog_entry_type_info *hvlog_entry_type_at(size_t i);

/**
 * hvlog_entry_type_find - look a row up by spec name, case-insensitive:
 * exact, without the "HV_TR_"/"HV_EVENTLOG_" prefix ("IM_CPUID"), or by
 * the words after the group ("CPUID") when only one row ends with them.
 * NULL if none, or if the short form names several rows.
 */
HVLOG_API const struct hvlog_entry_type_info *hvlog_entry_type_find(const char *name);

HVLOG_END_DECLS

#endif /* HVLOG_ABI_CATALOG_H */
