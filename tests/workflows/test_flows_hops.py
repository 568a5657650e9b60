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


def test_per_host_layout_has_the_same_fireworks_one_workflow_per_host(wf):
    """``sianode run`` adds one workflow per host: the same Fireworks and links as the one-workflow
    layout, minus the lattice -> host links (a host reads the lattice through the store)."""
    from sianode.workflows.flows import META_PART, build_workflows
    from sianode.workflows.plan import plan_campaign

    spec = wf.spec(dopants=["B", "P"], counts=[1], include_pure=True, hops="all")
    plan = plan_campaign(spec)
    (one,) = build_workflows(spec, plan, layout="one")
    split = build_workflows(spec, plan)
    assert [w.metadata[META_PART] for w in split] == ["reference", "lattice", *[h.name for h in plan.hosts]]
    assert all(w.metadata["sianode_campaign"] == "tiny" and w.metadata["sianode_spec_hash"] == spec.spec_hash()
               for w in split)
    names = sorted(fw.name for w in split for fw in w.fws)
    assert names == sorted(fw.name for fw in one.fws) and len(names) == len(set(names))
    edges_one = {(one.id_fw[p].name, one.id_fw[c].name) for p, cs in one.links.items() for c in cs}
    edges_split = {(w.id_fw[p].name, w.id_fw[c].name) for w in split for p, cs in w.links.items() for c in cs}
    assert edges_split == {e for e in edges_one if not e[0].endswith(":lattice")}
    assert {e[1] for e in edges_one if e[0].endswith(":lattice")} == {f"tiny:host:{h.name}" for h in plan.hosts}
    for w, host in zip(split[2:], plan.hosts):  # each host's workflow: its host, insertions and hops only
        assert all(host.name in fw.name for fw in w.fws) and len(w.fws) == 1 + len(host.sites) + len(host.hops)


def test_add_cut_short_is_removed_and_added_again(wf, db_uri, monkeypatch):
    """A crash between the two inserts of the bulk add (workflows in, Fireworks not): the next
    run removes the partial add and adds the campaign whole."""
    import pytest

    from sianode.workflows import run as runmod

    spec = wf.spec(dopants=["B"], counts=[1], hops="none")
    lp, _ = runmod.campaign_launchpad(db_uri)
    try:
        real = lp.fireworks.insert_many

        def crash(*args, **kwargs):
            raise RuntimeError("killed between the inserts")

        monkeypatch.setattr(lp.fireworks, "insert_many", crash)
        with pytest.raises(RuntimeError):
            runmod.add_campaign(lp, spec)
        monkeypatch.setattr(lp.fireworks, "insert_many", real)
        assert lp.workflows.count_documents({}) > 0 and lp.fireworks.count_documents({}) == 0
        monkeypatch.setattr(runmod, "ADD_WAIT_S", 0.5)
        fw_ids, added = runmod.add_campaign(lp, spec)
        assert added and len(fw_ids) == lp.fireworks.count_documents({})
        nodes = sorted(i for w in lp.workflows.find({}, {"nodes": 1}) for i in w["nodes"])
        assert nodes == sorted(fw_ids)  # no workflow of the cut-short add is left
        assert runmod.add_campaign(lp, spec) == (fw_ids, False)  # resumed, not added again
    finally:
        lp.connection.close()
