"""The FireWorks workflow of a campaign's hop paths (built, not run)."""

from __future__ import annotations


def _parents(workflow, fw):
    return sorted(workflow.id_fw[i].name for i in workflow.links.parent_links.get(fw.fw_id, []))


def test_one_hop_firework_per_h_class_child_of_its_insertions(wf):
    from sianode.structures import li_sites
    from sianode.workflows.flows import build_workflow
    from sianode.workflows.plan import build_host, plan_campaign

    spec = wf.spec(dopants=["B"], counts=[1], max_supercell=2, include_pure=True, sites={"nearest": 2}, hops="all")
    plan = plan_campaign(spec)
    workflow = build_workflow(spec, plan)
    pure, doped = plan.hosts
    n_h = len(li_sites(build_host(doped.host_params(), 5.431), doped.dopant_indices).H)
    hop_fws = [fw for fw in workflow.fws if fw.spec["_sianode_stage"] == "hop"]
    assert len(hop_fws) == workflow.metadata["n_hops"] == n_h + 1 == 11  # 10 H classes + the pure host's one
    for host in plan.hosts:
        for hop in host.hops:
            (fw,) = [f for f in hop_fws if f.name == f"tiny:hop:{host.name}:{hop.label}"]
            task = fw.tasks[0]
            assert {k: task["hop"][k] for k in ("h_label", "start_site", "end_site")} == \
                {"h_label": hop.h_label, "start_site": hop.start_site, "end_site": hop.end_site}
            inserted = {s.label for s in host.sites}
            want = [f"tiny:host:{host.name}"] + [f"tiny:insertion:{host.name}:{s}"
                                                 for s in {hop.start_site, hop.end_site} & inserted]
            assert _parents(workflow, fw) == sorted(want)
    # the workflow computes, analysis reads: no analysis Firework (layers point down)
    assert not [fw for fw in workflow.fws if fw.spec["_sianode_stage"] == "analysis"]
    assert not any(type(t).__name__ == "AnalysisTask" for fw in workflow.fws for t in fw.tasks)


def test_hops_none_has_no_hop_firework(wf):
    from sianode.workflows.flows import build_workflow

    workflow = build_workflow(wf.spec(dopants=["B"], counts=[1], hops="none"))
    assert not [fw for fw in workflow.fws if fw.spec["_sianode_stage"] == "hop"]
