/* SPDX-License-Identifier: MIT */
/* `hvlog record --from kvm`: see record_kvm.h. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "cli/record_kvm.h"
#if HVLOG_HAVE_KVM
#include "hvlog/kvm/kvm.h"
#endif

#if HVLOG_HAVE_KVM
struct record_kvm {
    struct hvlog_kvm *kvm;
};
#endif

bool record_kvm_usable(void)
{
#if HVLOG_HAVE_KVM
    char why[256];

    if (hvlog_kvm_probe(why, sizeof why) == 0)
        return true;
    cli_error("record: --from kvm: KVM is not available here: %s", why);
#else
    cli_error("record: --from kvm: this hvlog was built without the KVM host (no <linux/kvm.h>)");
#endif
    return false;
}

bool record_lps_start(struct hvlog_sim *sim, const struct hvlog_sim_workload *wl, bool from_kvm,
                      struct record_kvm **out)
{
    *out = NULL;
    if (!from_kvm) {
        if (hvlog_sim_start(sim, wl) == 0)
            return true;
        cli_error("record: the workload was refused (payload %u, rate %u)", wl->payload_max,
                  wl->rate_per_lp);
        return false;
    }
#if HVLOG_HAVE_KVM
    {
        struct hvlog_kvm_config kc = hvlog_kvm_config_default(hvlog_sim_lp_count(sim));
        struct record_kvm *r = calloc(1, sizeof *r);
        char why[256];

        if (!r) {
            cli_error("record: out of memory");
            return false;
        }
        kc.exits_per_vcpu = wl->events_per_lp;
        kc.rate_per_vcpu = wl->rate_per_lp;
        if (hvlog_kvm_create(sim, &kc, &r->kvm, why, sizeof why) != 0) {
            cli_error("record: --from kvm: cannot build the child VM: %s", why);
            free(r);
            return false;
        }
        if (hvlog_kvm_start(r->kvm) != 0) {
            cli_error("record: --from kvm: cannot start the vCPU threads");
            record_kvm_destroy(r);
            return false;
        }
        *out = r;
        return true;
    }
#else
    (void)sim;
    (void)wl;
    cli_error("record: --from kvm: this hvlog was built without the KVM host");
    return false;
#endif
}

bool record_lps_running(struct hvlog_sim *sim, struct record_kvm *kvm)
{
#if HVLOG_HAVE_KVM
    if (kvm)
        return hvlog_kvm_running(kvm->kvm);
#else
    (void)kvm;
#endif
    return hvlog_sim_running(sim);
}

bool record_lps_stop(struct hvlog_sim *sim, struct record_kvm *kvm, char *why, size_t why_size)
{
#if HVLOG_HAVE_KVM
    if (kvm) {
        const char *e;

        hvlog_kvm_stop(kvm->kvm);
        e = hvlog_kvm_error(kvm->kvm);
        if (e) {
            snprintf(why, why_size, "--from kvm: the child VM stopped: %s", e);
            return false;
        }
        return true;
    }
#else
    (void)kvm;
#endif
    (void)why;
    (void)why_size;
    hvlog_sim_stop(sim);
    return true;
}

void record_kvm_destroy(struct record_kvm *kvm)
{
    if (!kvm)
        return;
#if HVLOG_HAVE_KVM
    hvlog_kvm_destroy(kvm->kvm);
#endif
    free(kvm);
}
