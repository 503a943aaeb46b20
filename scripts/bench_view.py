"""Helpers of scripts/bench-view.sh: `generate DIR` writes the large inputs; `measure RUNS
LABEL|URL|MARKS...` loads each URL RUNS times in headless Chromium through chromedriver and
prints the median time of each performance mark (ms since the navigation started)."""
import json, os, random, shutil, socket, subprocess, sys, tempfile, time, urllib.request

def generate(out):
    rng = random.Random(0)
    words = "the of a to in is that for it with as was on be at by this had not are but from or have".split()
    def text(n):
        return " ".join(rng.choice(words) for _ in range(n // 4))
    with open(os.path.join(out, "big.jsonl"), "w") as f:
        for t in range(2000):
            steps = []
            for k in range(25):
                obs = text(2_000_000) if (t == 0 and k == 0) else text(1800)
                cmd = f"grep -n {rng.choice(words)} src/module_{k}.py"
                steps.append({"thought": text(160), "action": {"tool": "bash", "args": {"command": cmd}},
                              "action_text": f"<function=bash>\n<parameter=command>{cmd}</parameter>\n</function>",
                              "observation": obs, "exit_code": 0})
            patch = "diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -1,2 +1,2 @@\n-old line\n+new line\n"
            f.write(json.dumps({"schema": "srl.trajectory/1", "id": f"inst-{t}.{t:08x}", "instance_id": f"repo__inst-{t}",
                                "source_format": "swe-agent", "source": "bench", "problem_statement": text(3000),
                                "steps": steps, "submission": patch, "exit_status": "submitted"}) + "\n")
    run = os.path.join(out, "run")
    os.makedirs(run)
    with open(os.path.join(run, "metrics.jsonl"), "w") as m, open(os.path.join(run, "rollouts.jsonl"), "w") as r:
        for step in range(1250):
            rewards = [round(rng.uniform(-1, 1), 4) for _ in range(8)]
            mean = sum(rewards) / 8
            std = (sum((x - mean) ** 2 for x in rewards) / 8) ** 0.5
            m.write(json.dumps({"stage": "srl", "step": step, "stage_step": step, "learning_rate": 1e-6, "loss": rng.uniform(0, 1),
                                "grad_norm": 1.0, "reward_mean": mean, "reward_std": std, "reward_max": max(rewards),
                                "format_error_rate": 0.1, "similarity_mean": 0.5, "execution_reward_mean": None,
                                "kept_groups": 1, "sampled_groups": 1, "kept_ratio": 1.0, "kl_to_initial": 0.01,
                                "tokens": 2000, "tokens_per_second": 100.0, "seconds_generation": 20.0,
                                "seconds_reward": 0.1, "seconds_update": 5.0}) + "\n")
            expert = "<function=bash>\n<parameter=command>grep -rn parse src/</parameter>\n</function>"
            rollouts = [{"completion": "<think>\n" + text(1200) + "\n</think>\n" + expert.replace("parse", rng.choice(words)),
                         "completion_chars": 1300, "truncated": False, "reward": x, "format_ok": True,
                         "similarity": (x + 1) / 2, "execution": None, "advantage": (x - mean) / (std + 1e-6)} for x in rewards]
            r.write(json.dumps({"schema": "srl.rollouts/1", "step": step, "stage": "srl", "group": 0, "round": 0,
                                "step_id": f"traj-{step % 40}.0000abcd/3", "instance_id": f"repo__inst-{step % 40}",
                                "kept": True, "expert_action": expert, "rollouts": rollouts}) + "\n")

def call(port, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as res:
        return json.load(res)["value"]

def measure(runs, specs):
    sock = socket.socket(); sock.bind(("127.0.0.1", 0)); port = sock.getsockname()[1]; sock.close()
    profile = tempfile.mkdtemp()
    driver = subprocess.Popen(["chromedriver", f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port)).close(); break
            except OSError:
                time.sleep(0.05)
        args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                f"--user-data-dir={profile}", "--window-size=1400,900"]
        session = call(port, "POST", "/session", {"capabilities": {"alwaysMatch": {"browserName": "chrome",
                       "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": args}}}})["sessionId"]
        for spec in specs:
            label, url, marks = spec.split("|")
            times = {mark: [] for mark in marks.split(",")}
            for _ in range(runs):
                call(port, "POST", f"/session/{session}/url", {"url": "about:blank"})
                call(port, "POST", f"/session/{session}/url", {"url": url})
                for mark in times:
                    script = f"const e = performance.getEntriesByName('{mark}'); return e.length ? e[0].startTime : null;"
                    for _ in range(600):
                        value = call(port, "POST", f"/session/{session}/execute/sync", {"script": script, "args": []})
                        if value is not None:
                            times[mark].append(value); break
                        time.sleep(0.05)
                    else:
                        raise SystemExit(f"{label}: no '{mark}' mark after 30 s")
            summary = ", ".join(f"{mark} {sorted(v)[len(v) // 2]:.0f} ms (max {max(v):.0f})" for mark, v in times.items())
            print(f"{label}: {summary}")
        call(port, "DELETE", f"/session/{session}")
    finally:
        driver.kill(); driver.wait()
        shutil.rmtree(profile, ignore_errors=True)

if __name__ == "__main__":
    if sys.argv[1] == "generate":
        generate(sys.argv[2])
    else:
        measure(int(sys.argv[2]), sys.argv[3:])
