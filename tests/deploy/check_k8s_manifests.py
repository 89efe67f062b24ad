#!/usr/bin/python3
"""Checks properties of the rendered Kubernetes manifests (deploy/k8s) that
schema validation cannot see: workload semantics, security, resources,
probes and the GPU overlay's scope. Each check is one finding of issue 17.

Every overlay under deploy/k8s/overlays is rendered with `kubectl kustomize`
and each selected check runs on every render (gpu_overlay compares the gpu
render with the cpu one). Before a check passes the real manifests it must
fail on a copy of them with its property removed (the check's own mutation),
so a check that cannot fail fails the test.

Usage: check_k8s_manifests.py [--overlays DIR] [--dockerfile F] CHECK...
       check_k8s_manifests.py --list
Exit code 0 when every check passes, 1 otherwise (each problem on a line).
"""

import argparse
import copy
import os
import pathlib
import re
import subprocess
import sys

import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
UID = 10001
# Pod Security Standards, "restricted" (Kubernetes v1.30 rules).
RESTRICTED_VOLUME_TYPES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
                           "persistentVolumeClaim", "projected", "secret"}
SAFE_SYSCTLS = {"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range",
                "net.ipv4.ip_unprivileged_port_start", "net.ipv4.tcp_syncookies",
                "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
                "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout",
                "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes"}
POD_WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"}


# --------------------------------------------------------------- rendering --

def render(overlay):
    """The objects `kubectl kustomize OVERLAY` renders."""
    kubectl = os.environ.get("KUBECTL", "kubectl")
    out = subprocess.run([kubectl, "kustomize", str(overlay)], check=True,
                         capture_output=True, text=True).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def find(objs, kind, name):
    for o in objs:
        if o.get("kind") == kind and o.get("metadata", {}).get("name") == name:
            return o
    return None


def need(objs, kind, name):
    o = find(objs, kind, name)
    if o is None:
        raise Problem(f"no {kind}/{name}")
    return o


def pod_templates(objs):
    """(label, pod spec) of every pod template (and bare Pod)."""
    for o in objs:
        label = f"{o.get('kind')}/{o.get('metadata', {}).get('name')}"
        if o.get("kind") in POD_WORKLOADS:
            yield label, o["spec"]["template"]["spec"]
        elif o.get("kind") == "CronJob":
            yield label, o["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        elif o.get("kind") == "Pod":
            yield label, o["spec"]


def containers(spec):
    return [("initContainer", c) for c in spec.get("initContainers", [])] + \
           [("container", c) for c in spec.get("containers", [])]


def container(spec, name):
    for _, c in containers(spec):
        if c["name"] == name:
            return c
    raise Problem(f"no container {name}")


def job_spec(objs, name):
    return need(objs, "Job", name)["spec"]["template"]["spec"]


class Problem(Exception):
    pass


# A manifest without a field a check reads counts as that check's problem.
MALFORMED = (Problem, KeyError, IndexError, TypeError, ValueError, AttributeError)


def parse_quantity(q):
    """Bytes of a Kubernetes memory quantity (e.g. 4Gi, 500M, 1024)."""
    m = re.fullmatch(r"([0-9.]+)([KMGTPE]i?)?", str(q))
    if not m:
        raise Problem(f"unparsable quantity {q!r}")
    scale = {None: 1, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
             "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
    return float(m.group(1)) * scale[m.group(2)]


# ------------------------------------------------------------------ checks --
# Each check takes (objs, renders) and returns a list of problems.

def check_crawler_job(objs, renders):
    """Finding 3: crawlers are a Job that ends with the crawl; exit 75 and disruptions are retried.

    A crawler stopped on a signal (exit 75) or disrupted is started again
    without counting against backoffLimit."""
    problems = []
    if find(objs, "Deployment", "atelier-crawler"):
        problems.append("atelier-crawler is a Deployment (restarts finished crawlers forever)")
    job = find(objs, "Job", "atelier-crawler")
    if job is None:
        return problems + ["no Job/atelier-crawler"]
    spec = job["spec"]
    if not spec.get("parallelism", 1) >= 1:
        problems.append("Job/atelier-crawler: parallelism < 1")
    if spec.get("completionMode") != "Indexed" and "completions" not in spec:
        problems.append("Job/atelier-crawler: neither completionMode Indexed nor completions")
    if spec.get("completionMode") == "Indexed" and spec.get("completions") != spec.get("parallelism"):
        problems.append("Job/atelier-crawler: Indexed with completions != parallelism")
    # A crawler stopped by SIGTERM (eviction) exits 75: its index is not done,
    # and the Job must start it again without counting it against backoffLimit.
    return problems + pod_failure_policy_problems(objs, "atelier-crawler", "crawler")


def check_volume_ownership(objs, renders, dockerfile=None):
    """Finding 4: pods run as the image's numeric uid and own their volumes."""
    problems = []
    dockerfile = dockerfile or REPO / "deploy" / "docker" / "Dockerfile"
    users = re.findall(r"^USER\s+(\S+)", dockerfile.read_text(), re.M)
    if not users or not re.fullmatch(r"\d+(:\d+)?", users[-1]):
        problems.append(f"{dockerfile}: the last USER must be numeric (uid[:gid]), got {users[-1:]}")
    elif int(users[-1].split(":")[0]) != UID:
        problems.append(f"{dockerfile}: USER {users[-1]} is not uid {UID}")
    for label, spec in pod_templates(objs):
        sc = spec.get("securityContext", {})
        for key in ("runAsUser", "runAsGroup", "fsGroup"):
            if sc.get(key) != UID:
                problems.append(f"{label}: pod securityContext.{key} is {sc.get(key)}, want {UID}")
    return problems


def check_startup_probe(objs, renders):
    """Finding 5: the coordinator's ingest gets a startupProbe of >= 30 min."""
    c = container(need(objs, "StatefulSet", "atelier-coordinator")["spec"]["template"]["spec"],
                  "coordinator")
    probe = c.get("startupProbe")
    if not probe:
        return ["coordinator: no startupProbe (the liveness probe kills a long ingest)"]
    budget = probe.get("periodSeconds", 10) * probe.get("failureThreshold", 3)
    if budget < 1800:
        return [f"coordinator: startupProbe allows {budget} s, want >= 1800 s"]
    if probe.get("grpc", {}).get("port") != 7070:
        return ["coordinator: startupProbe is not a grpc probe on 7070"]
    return []


def check_trainer_wait_deadline(objs, renders):
    """Finding 5: the trainer's init container waits minutes for the coordinator."""
    spec = job_spec(objs, "atelier-trainer")
    c = container(spec, "wait-for-crawl")
    args = c.get("args", [])
    if "--watch" not in args:
        return ["wait-for-crawl: not `atelier status --watch`"]
    if "--timeout-s" not in args:
        return ["wait-for-crawl: no --timeout-s (the default gives up after 10 s)"]
    seconds = int(args[args.index("--timeout-s") + 1])
    if seconds < 600:
        return [f"wait-for-crawl: --timeout-s {seconds}, want >= 600 (minutes)"]
    return []


def pod_failure_policy_problems(objs, job_name, container_name):
    """Problems of Job JOB_NAME's podFailurePolicy: exit 75 of CONTAINER_NAME
    (stopped on a signal, rerun to continue) and disruptions must be ignored,
    which needs restartPolicy Never."""
    job = need(objs, "Job", job_name)["spec"]
    label = f"Job/{job_name}"
    problems = []
    if job["template"]["spec"].get("restartPolicy") != "Never":
        problems.append(f"{label}: podFailurePolicy needs restartPolicy Never")
    rules = job.get("podFailurePolicy", {}).get("rules", [])
    ignores_75 = any(r.get("action") == "Ignore"
                     and r.get("onExitCodes", {}).get("operator") == "In"
                     and 75 in r.get("onExitCodes", {}).get("values", [])
                     and r["onExitCodes"].get("containerName") in (None, container_name)
                     for r in rules)
    if not ignores_75:
        problems.append(f"{label}: no podFailurePolicy rule ignoring exit code 75")
    ignores_disruption = any(r.get("action") == "Ignore" and any(
        p.get("type") == "DisruptionTarget" and p.get("status") == "True" for p in r.get("onPodConditions", [])) for r in rules)
    if not ignores_disruption:
        problems.append(f"{label}: no podFailurePolicy rule ignoring DisruptionTarget")
    return problems


def check_pod_failure_policy(objs, renders):
    """Finding 5: the trainer's exit 75 and disruptions do not count against backoffLimit."""
    return pod_failure_policy_problems(objs, "atelier-trainer", "trainer")


def check_restricted(objs, renders):
    """Finding 6: every pod template meets Pod Security "restricted"."""
    problems = []
    for label, spec in pod_templates(objs):
        psc = spec.get("securityContext", {})
        for key in ("hostNetwork", "hostPID", "hostIPC"):
            if spec.get(key):
                problems.append(f"{label}: {key}")
        for v in spec.get("volumes", []):
            kinds = set(v) - {"name"}
            if not kinds <= RESTRICTED_VOLUME_TYPES:
                problems.append(f"{label}: volume {v['name']} of type {sorted(kinds)}")
        for s in psc.get("sysctls", []):
            if s.get("name") not in SAFE_SYSCTLS:
                problems.append(f"{label}: unsafe sysctl {s.get('name')}")
        if psc.get("runAsUser") == 0:
            problems.append(f"{label}: pod runAsUser 0")
        pod_seccomp = psc.get("seccompProfile", {}).get("type")
        for where, c in containers(spec):
            name = f"{label} {where} {c['name']}"
            sc = c.get("securityContext", {})
            if sc.get("privileged"):
                problems.append(f"{name}: privileged")
            if sc.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{name}: allowPrivilegeEscalation is not false")
            caps = sc.get("capabilities", {})
            if "ALL" not in caps.get("drop", []):
                problems.append(f"{name}: capabilities do not drop ALL")
            if set(caps.get("add", [])) - {"NET_BIND_SERVICE"}:
                problems.append(f"{name}: adds capabilities {caps.get('add')}")
            if not (sc.get("runAsNonRoot", psc.get("runAsNonRoot")) is True):
                problems.append(f"{name}: runAsNonRoot is not true")
            if sc.get("runAsUser") == 0:
                problems.append(f"{name}: runAsUser 0")
            if sc.get("seccompProfile", {}).get("type", pod_seccomp) not in ("RuntimeDefault", "Localhost"):
                problems.append(f"{name}: seccompProfile is not RuntimeDefault or Localhost")
            if c.get("ports") and any(p.get("hostPort") for p in c["ports"]):
                problems.append(f"{name}: hostPort")
            if sc.get("procMount", "Default") != "Default":
                problems.append(f"{name}: procMount {sc.get('procMount')}")
    return problems


def check_read_only_root(objs, renders):
    """Finding 6: read-only root file systems, with a writable /tmp."""
    problems = []
    for label, spec in pod_templates(objs):
        writable = {v["name"] for v in spec.get("volumes", [])
                    if "emptyDir" in v or "persistentVolumeClaim" in v}
        for where, c in containers(spec):
            name = f"{label} {where} {c['name']}"
            if c.get("securityContext", {}).get("readOnlyRootFilesystem") is not True:
                problems.append(f"{name}: readOnlyRootFilesystem is not true")
            if where == "container" and not any(
                    m["mountPath"] == "/tmp" and m["name"] in writable and not m.get("readOnly")
                    for m in c.get("volumeMounts", [])):
                problems.append(f"{name}: no writable volume at /tmp")
    return problems


def check_memory(objs, renders):
    """Finding 6: every container requests and limits memory."""
    problems = []
    for label, spec in pod_templates(objs):
        for where, c in containers(spec):
            res = c.get("resources", {})
            req = res.get("requests", {}).get("memory")
            lim = res.get("limits", {}).get("memory")
            name = f"{label} {where} {c['name']}"
            if req is None or lim is None:
                problems.append(f"{name}: memory request {req}, limit {lim}")
            elif parse_quantity(lim) < parse_quantity(req):
                problems.append(f"{name}: memory limit {lim} below its request {req}")
    return problems


def check_shm_size_limit(objs, renders):
    """Finding 6: memory-backed volumes (/dev/shm) have a sizeLimit under the limit."""
    problems = []
    for label, spec in pod_templates(objs):
        for v in spec.get("volumes", []):
            ed = v.get("emptyDir")
            if ed is None or ed.get("medium") != "Memory":
                continue
            if "sizeLimit" not in ed:
                problems.append(f"{label}: memory volume {v['name']} has no sizeLimit")
                continue
            for _, c in containers(spec):
                if any(m["name"] == v["name"] for m in c.get("volumeMounts", [])):
                    lim = c.get("resources", {}).get("limits", {}).get("memory")
                    if lim and parse_quantity(ed["sizeLimit"]) >= parse_quantity(lim):
                        problems.append(f"{label} {c['name']}: {v['name']} sizeLimit "
                                        f"{ed['sizeLimit']} not below the memory limit {lim}")
    return problems


def check_headless_service(objs, renders):
    """Finding 6: the StatefulSet's serviceName names a headless Service."""
    problems = []
    for o in objs:
        if o.get("kind") != "StatefulSet":
            continue
        svc_name = o["spec"].get("serviceName")
        svc = find(objs, "Service", svc_name)
        label = f"StatefulSet/{o['metadata']['name']}"
        if svc is None:
            problems.append(f"{label}: serviceName {svc_name} names no Service")
        elif svc["spec"].get("clusterIP") != "None":
            problems.append(f"{label}: Service/{svc_name} is not headless (clusterIP: None)")
        else:
            selector = svc["spec"].get("selector", {})
            labels = o["spec"]["template"]["metadata"].get("labels", {})
            if not selector or any(labels.get(k) != v for k, v in selector.items()):
                problems.append(f"{label}: Service/{svc_name} does not select its pods")
    return problems


def check_gpu_overlay(objs, renders):
    """Finding 6: the gpu overlay changes only the trainer's image and adds the
    NCCL environment, a GPU toleration and node selector."""
    if "gpu" not in renders or "cpu" not in renders:
        return []  # compared once, on the gpu render
    if objs is not renders["gpu"]:
        return []
    gpu, cpu = renders["gpu"], renders["cpu"]
    problems = []
    images_cpu = {(l, c["name"]): c["image"] for l, s in pod_templates(cpu) for _, c in containers(s)}
    for label, spec in pod_templates(gpu):
        for _, c in containers(spec):
            key = (label, c["name"])
            if key == ("Job/atelier-trainer", "trainer"):
                if c["image"] == images_cpu.get(key):
                    problems.append("gpu: the trainer container keeps the CPU image")
            elif c["image"] != images_cpu.get(key):
                problems.append(f"gpu: {label} {c['name']} image {c['image']} "
                                f"differs from the base's {images_cpu.get(key)}")
    spec = job_spec(gpu, "atelier-trainer")
    trainer = container(spec, "trainer")
    env = {e["name"] for e in trainer.get("env", [])}
    for var in ("NCCL_SOCKET_IFNAME", "NCCL_DEBUG"):
        if var not in env:
            problems.append(f"gpu: trainer has no {var}")
    if "nvidia.com/gpu" not in trainer.get("resources", {}).get("limits", {}):
        problems.append("gpu: trainer requests no nvidia.com/gpu")
    if not any(t.get("key") == "nvidia.com/gpu" for t in spec.get("tolerations", [])):
        problems.append("gpu: no toleration for the nvidia.com/gpu taint")
    if not spec.get("nodeSelector"):
        problems.append("gpu: no nodeSelector for GPU nodes")
    return problems


# --------------------------------------------------------------- mutations --
# Each mutation removes a property its check looks for, from a deep copy of
# a render; the check must then report a problem. A check may have several.

def _trainer(objs):
    return job_spec(objs, "atelier-trainer")


def _coordinator(objs):
    return need(objs, "StatefulSet", "atelier-coordinator")["spec"]["template"]["spec"]


def mutate_crawler_job(objs):
    job = need(objs, "Job", "atelier-crawler")
    job["kind"], job["apiVersion"] = "Deployment", "apps/v1"


def mutate_crawler_exit_75(objs):
    for r in need(objs, "Job", "atelier-crawler")["spec"]["podFailurePolicy"]["rules"]:
        if "onExitCodes" in r:
            r["onExitCodes"]["values"] = [v for v in r["onExitCodes"]["values"] if v != 75]


def mutate_crawler_restart_policy(objs):
    need(objs, "Job", "atelier-crawler")["spec"]["template"]["spec"]["restartPolicy"] = "OnFailure"


def mutate_volume_ownership(objs):
    _coordinator(objs)["securityContext"].pop("fsGroup", None)


def mutate_startup_probe(objs):
    container(_coordinator(objs), "coordinator").pop("startupProbe", None)


def mutate_trainer_wait_deadline(objs):
    c = container(_trainer(objs), "wait-for-crawl")
    i = c["args"].index("--timeout-s")
    del c["args"][i:i + 2]


def mutate_pod_failure_policy(objs):
    need(objs, "Job", "atelier-trainer")["spec"].pop("podFailurePolicy", None)


def mutate_restricted(objs):
    container(_trainer(objs), "wait-for-crawl")["securityContext"].pop("capabilities", None)


def mutate_read_only_root(objs):
    container(_coordinator(objs), "coordinator")["securityContext"]["readOnlyRootFilesystem"] = False


def mutate_memory(objs):
    container(_trainer(objs), "trainer")["resources"]["limits"].pop("memory", None)


def mutate_shm_size_limit(objs):
    for v in _trainer(objs)["volumes"]:
        if v.get("emptyDir", {}).get("medium") == "Memory":
            v["emptyDir"].pop("sizeLimit", None)


def mutate_headless_service(objs):
    name = need(objs, "StatefulSet", "atelier-coordinator")["spec"]["serviceName"]
    need(objs, "Service", name)["spec"].pop("clusterIP", None)


def mutate_gpu_overlay(objs):
    for _, c in containers(_coordinator(objs)):
        c["image"] = "atelier-cuda:latest"


CHECKS = {
    "crawler_job": (check_crawler_job, mutate_crawler_job, mutate_crawler_exit_75,
                    mutate_crawler_restart_policy),
    "volume_ownership": (check_volume_ownership, mutate_volume_ownership),
    "startup_probe": (check_startup_probe, mutate_startup_probe),
    "trainer_wait_deadline": (check_trainer_wait_deadline, mutate_trainer_wait_deadline),
    "pod_failure_policy": (check_pod_failure_policy, mutate_pod_failure_policy),
    "restricted": (check_restricted, mutate_restricted),
    "read_only_root": (check_read_only_root, mutate_read_only_root),
    "memory": (check_memory, mutate_memory),
    "shm_size_limit": (check_shm_size_limit, mutate_shm_size_limit),
    "headless_service": (check_headless_service, mutate_headless_service),
    "gpu_overlay": (check_gpu_overlay, mutate_gpu_overlay),
}


def run_check(name, renders):
    """Problems of check NAME on every render, after proving it can fail
    (on each of its mutations)."""
    check, *mutations = CHECKS[name]
    problems = []
    for overlay, objs in sorted(renders.items()):
        try:
            found = check(objs, renders)
        except MALFORMED as e:
            found = [f"{type(e).__name__}: {e}"]
        problems += [f"{overlay}: {p}" for p in found]
    # The mutation self-check, on the gpu render for gpu_overlay, else each render.
    targets = ["gpu"] if name == "gpu_overlay" else sorted(renders)
    for overlay in targets:
        if overlay not in renders:
            continue
        for mutate in mutations:
            broken = dict(renders)
            broken[overlay] = copy.deepcopy(renders[overlay])
            try:
                mutate(broken[overlay])
                caught = check(broken[overlay], broken)
            except MALFORMED as e:
                caught = [f"{type(e).__name__}: {e}"]
            if not caught:
                problems.append(f"{overlay}: self-check: check {name} passes manifests "
                                f"without its property ({mutate.__name__})")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checks", nargs="*", help="checks to run (default: all)")
    parser.add_argument("--overlays", type=pathlib.Path, default=REPO / "deploy" / "k8s" / "overlays")
    parser.add_argument("--list", action="store_true", help="print the check names")
    args = parser.parse_args()
    if args.list:
        print("\n".join(CHECKS))
        return 0
    names = args.checks or list(CHECKS)
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        print(f"FAIL: unknown check(s) {' '.join(unknown)}; known: {' '.join(CHECKS)}", file=sys.stderr)
        return 1
    try:
        renders = {d.name: render(d) for d in sorted(args.overlays.iterdir()) if d.is_dir()}
    except subprocess.CalledProcessError as e:
        print(f"FAIL: kubectl kustomize: {e.stderr.strip()}", file=sys.stderr)
        return 1
    if not renders:
        print(f"FAIL: no overlays under {args.overlays}", file=sys.stderr)
        return 1
    status = 0
    for name in names:
        problems = run_check(name, renders)
        if problems:
            status = 1
            print(f"FAIL {name}: {CHECKS[name][0].__doc__.splitlines()[0]}", file=sys.stderr)
            for p in problems:
                print(f"  {p}", file=sys.stderr)
        else:
            print(f"ok {name} ({', '.join(sorted(renders))})")
    return status


if __name__ == "__main__":
    sys.exit(main())
