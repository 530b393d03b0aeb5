"""``rapport bench``: per-turn latency, scorer throughput, memory and training time, against stock Rasa.

Order of the run, so that no two measurements share the CPU:

1. train both models from scratch into a temporary folder (``train_s``);
2. scorer throughput on one pinned core, in a child process;
3. start our three servers on non-default ports, play scripted difficult-news conversations through the web
   API at 1 and at 8 concurrent trainees, then the same at concurrency 1 straight to Rasa and straight to
   the action server (where the time goes), then read the resident memory of the three processes;
4. ``rasa init`` a stock assistant and play its kind of conversations over its REST channel, at 1 and 8.

The table goes to stdout, followed by one JSON line; progress goes to logging.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import aiohttp

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
WEB_PORT, RASA_PORT, ACTIONS_PORT, STOCK_PORT = 18000, 15005, 15055, 15006
CONCURRENCY = 8
WARMUP_TURNS = 3  # discarded at concurrency 1 (first requests pay for lazy imports and caches)
REQUEST_TIMEOUT_S = 60.0
MAX_CONSECUTIVE_ERRORS = 5  # a trainee gives up after this many failed requests in a row
START_TIMEOUT_S = 300.0
TRAIN_TIMEOUT_S = 1800.0
SCORER_SENTENCES = 5000

TARGET_SCORER_PER_S = 1000.0
TARGET_RSS_MB = 2500.0
TARGET_TRAIN_S = 180.0

# A trainee breaking difficult news, roughly in SPIKES order; cycled when a conversation is longer.
TRAINEE_LINES: tuple[str, ...] = (
    "Hello Jo, I'm Dr Patel, one of the doctors looking after you. Is it all right if we talk here?",
    "Before I go through the results, what have you been told about why we did the biopsy?",
    "How much detail would you like me to go into today?",
    "I'm afraid I have some difficult news about the biopsy result.",
    "The biopsy showed that the lump is a cancer.",
    "I can see this has come as a real shock. It sounds like you're frightened.",
    "What's going through your mind right now?",
    "Anyone would find this hard to hear. Tell me more about what worries you most.",
    "It sounds like you're worried about how your family will cope.",
    "Would it help if we talked about what happens next, or would you rather take a moment?",
    "There are treatments we can offer, and we will decide on them together with the specialist team.",
    "Could you tell me in your own words what you'll say to your family about today?",
)

# The kind of messages the stock ``rasa init`` assistant (moodbot) was trained on.
STOCK_LINES: tuple[str, ...] = (
    "hello",
    "I am sad",
    "yes",
    "great",
    "bye",
    "hi there",
    "I am feeling very bad",
    "no",
    "good morning",
    "I am happy",
    "are you a bot?",
    "see you later",
)


# -- the scorer workload -----------------------------------------------------------------------------------
_HANDWRITTEN: tuple[str, ...] = (
    "Hello, I'm one of the doctors on the ward; is now a good time to talk?",
    "What do you understand about why we did these tests?",
    "What have the other doctors told you so far?",
    "Some people like all the details and some prefer the big picture; what would suit you?",
    "I'm sorry, but the results are not what we hoped for.",
    "I'm afraid the scan has shown something serious.",
    "The tests show that the cancer has spread to the liver.",
    "Your carcinoma is metastatic and the prognosis is guarded.",
    "Don't worry, everything will be fine.",
    "You really need to stop smoking straight away.",
    "If you don't take the tablets you will end up back in hospital.",
    "Why didn't you come to see us sooner?",
    "Let me sort all of that out for you, you don't need to think about it.",
    "You've been incredibly strong through all of this.",
    "It took real courage to come in today on your own.",
    "So far you've told me that the pain is worse at night and that you're worried about work.",
    "Let me check I've got this right: you want to keep working for as long as you can.",
    "Can you tell me what you've taken in from what I've said?",
    "I want to make sure I explained that clearly; what will you tell your partner?",
    "There are a few options, and none of them is obviously the right one.",
    "One option is surgery, another is radiotherapy, and a third is to wait and watch.",
    "This is your decision, and we'll support whichever way you go.",
    "It's entirely up to you whether you want to start treatment now.",
    "What matters most to you as we think about the options?",
    "Shall we weigh up the options together?",
    "Do you have any pain at the moment?",
    "Are you taking any other medicines?",
    "Did anyone come with you today?",
    "Is your daughter still living nearby?",
    "Have you had any side effects from the chemotherapy?",
    "You feel let down by how long the results took.",
    "You're angry that nobody told you sooner.",
    "Part of you wants to know everything, and part of you wants to put it off.",
    "You're worried that if you stop working, you'll lose yourself.",
    "It's been a really long few weeks.",
    "I will be here with you through this, and so will the team.",
    "We won't leave you to deal with this on your own.",
    "I can only imagine how hard this must be.",
    "Anyone in your position would feel the same way.",
    "I really respect how much thought you've given this.",
    "Tell me more about that.",
    "How are you feeling right now?",
    "What's the hardest part of this for you?",
    "What would help you most today?",
    "Who do you have at home to support you?",
    "Hmm.",
    "Okay.",
    "I see.",
    "Take your time.",
    "Go on.",
    "The specialist nurse will call you tomorrow to arrange the next appointment.",
    "Your haemoglobin is low, which is why you've been so tired.",
    "The MRI showed a lesion in the left temporal lobe.",
    "We'll need to do a staging CT and a bone scan.",
    "Your cholesterol is a bit high but nothing to panic about.",
    "There's no need to be upset, this is very common.",
    "At least we caught it early.",
    "Look on the bright side, it could be worse.",
    "You should get a second opinion if you're not happy.",
    "I'd strongly advise you to have the operation.",
    "Before we go any further, could I explain what the biopsy showed?",
    "I have the results here; would you like me to go through them now?",
    "I'm afraid it's not good news.",
    "This is going to be difficult to hear.",
    "Would it be all right if I shared some information about what usually happens next?",
    "How would you like us to involve your family in the decision?",
    "What questions do you have for me?",
    "Is there anything I've said that didn't make sense?",
    "I'll write down the main points so you can look at them later.",
    "Thank you for telling me that.",
    "That sounds really frightening.",
    "You seem quite upset.",
    "I'm sorry this has happened to you.",
    "It's completely understandable to feel overwhelmed.",
    "Let's take this one step at a time.",
)
_EMOTIONS = ("frightened", "angry", "shocked", "overwhelmed", "worried", "upset", "numb", "confused")
_TOPICS = (
    "the result",
    "the treatment",
    "telling your family",
    "going back to work",
    "the next scan",
    "what happens next",
)
_TEMPLATES: tuple[str, ...] = (
    "It sounds like you're {emotion} about {topic}.",
    "I wonder if you're feeling {emotion} about {topic}.",
)
_TOPIC_TEMPLATES: tuple[str, ...] = (
    "What worries you most about {topic}?",
    "Would it help to talk about {topic} now, or another day?",
    "How are you feeling about {topic}?",
    "What do you already know about {topic}?",
    "Shall we think about {topic} together?",
)


def scorer_corpus(n_distinct: int = 200) -> list[str]:
    """About 200 distinct, realistic trainee sentences (hand-written plus a few templates)."""
    out: list[str] = list(_HANDWRITTEN)
    for template in _TOPIC_TEMPLATES:
        out.extend(template.format(topic=t) for t in _TOPICS)
    for template in _TEMPLATES:
        out.extend(template.format(emotion=e, topic=t) for e in _EMOTIONS for t in _TOPICS)
    return list(dict.fromkeys(out))[:n_distinct]


def repeat_to(items: Sequence[str], total: int) -> list[str]:
    """``items`` cycled until there are ``total`` of them."""
    if not items or total <= 0:
        return []
    return [items[i % len(items)] for i in range(total)]


# -- statistics --------------------------------------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) with linear interpolation between closest ranks; None when empty."""
    if not values:
        return None
    if not 0 <= q <= 100:
        raise ValueError("q must be between 0 and 100")
    ordered = sorted(values)
    rank = q / 100 * (len(ordered) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def rounded(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def passes(value: float | None, op: str, limit: float | None) -> str:
    """PASS/FAIL for ``value <op> limit`` (op is "<", "<=" or ">="), n/a when either side was not measured."""
    if value is None or limit is None:
        return "n/a"
    checks = {"<": value < limit, "<=": value <= limit, ">=": value >= limit}
    return "PASS" if checks[op] else "FAIL"


@dataclass
class LoadResult:
    name: str
    concurrency: int
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    wall_s: float = 0.0
    first_error: str | None = None

    @property
    def p50(self) -> float | None:
        return percentile(self.latencies_ms, 50)

    @property
    def p95(self) -> float | None:
        return percentile(self.latencies_ms, 95)

    @property
    def throughput(self) -> float | None:
        return len(self.latencies_ms) / self.wall_s if self.wall_s > 0 else None


# -- conversation targets ----------------------------------------------------------------------------------
class Target(Protocol):
    """One kind of conversation partner: open a conversation (not timed), send one turn (timed)."""

    name: str

    async def open(self, http: aiohttp.ClientSession, trainee: int, conversation: int) -> Any: ...

    async def send(self, http: aiohttp.ClientSession, conv: Any, turn: int) -> bool:
        """Send turn ``turn``; False when the conversation is over and the next turn needs a new one."""
        ...


class RequestFailed(RuntimeError):
    pass


async def _post_json(
    http: aiohttp.ClientSession,
    url: str,
    body: dict[str, Any],
    expect: int = 200,
    headers: dict[str, str] | None = None,
) -> Any:
    async with http.post(url, json=body, headers=headers) as resp:
        payload = await resp.json(content_type=None)
        if resp.status != expect:
            raise RequestFailed(f"POST {url} -> {resp.status}: {str(payload)[:200]}")
        return payload


def _custom(answers: Any) -> dict[str, Any]:
    """Our action's JSON payload in a Rasa REST-channel (or action-server) answer list."""
    for answer in answers or []:
        if isinstance(answer, dict) and isinstance(answer.get("custom"), dict):
            return dict(answer["custom"])
    raise RequestFailed(f"no action payload in {str(answers)[:200]}")


def _start_command(seed: int) -> str:
    return "/start_scenario" + json.dumps({"scenario_id": "difficult-news", "seed": seed})


def _seed(trainee: int, conversation: int) -> int:
    return 1000 + 100 * trainee + conversation


class WebTarget:
    """Our product as a trainee sees it: the web app's JSON API."""

    name = "rapport (web API)"

    def __init__(self, port: int = WEB_PORT) -> None:
        self.base = f"http://{HOST}:{port}/api"

    async def open(self, http: aiohttp.ClientSession, trainee: int, conversation: int) -> Any:
        body = {
            "scenario_id": "difficult-news",
            "display_name": f"bench trainee {trainee}",
            "seed": _seed(trainee, conversation),
        }
        created = await _post_json(http, f"{self.base}/sessions", body, expect=201)
        return created["session"]["id"]

    async def send(self, http: aiohttp.ClientSession, conv: Any, turn: int) -> bool:
        text = TRAINEE_LINES[turn % len(TRAINEE_LINES)]
        key = {"Idempotency-Key": uuid.uuid4().hex}  # as the page sends it
        answer = await _post_json(http, f"{self.base}/sessions/{conv}/messages", {"text": text}, headers=key)
        return bool(answer["session"]["status"] == "active")


class RasaTarget:
    """Our Rasa server straight over its REST channel (Rasa + action server, no web app)."""

    name = "rapport Rasa direct"

    def __init__(self, port: int = RASA_PORT) -> None:
        self.url = f"http://{HOST}:{port}/webhooks/rest/webhook"

    async def open(self, http: aiohttp.ClientSession, trainee: int, conversation: int) -> Any:
        sender = f"bench-rasa-{uuid.uuid4().hex}"
        _custom(
            await _post_json(
                http, self.url, {"sender": sender, "message": _start_command(_seed(trainee, conversation))}
            )
        )
        return sender

    async def send(self, http: aiohttp.ClientSession, conv: Any, turn: int) -> bool:
        text = TRAINEE_LINES[turn % len(TRAINEE_LINES)]
        payload = _custom(await _post_json(http, self.url, {"sender": conv, "message": text}))
        return not payload.get("ended")


@dataclass
class _ActionConversation:
    sender: str
    slots: dict[str, Any]


class ActionsTarget:
    """Our action server alone: the call Rasa makes for ``action_patient_turn``, with a minimal tracker
    (no event history and no NLU intent, so slightly less work than what Rasa sends)."""

    name = "rapport action server direct"

    def __init__(self, rasa_port: int = RASA_PORT, actions_port: int = ACTIONS_PORT) -> None:
        self.rasa = RasaTarget(rasa_port)
        self.url = f"http://{HOST}:{actions_port}/webhook"

    async def open(self, http: aiohttp.ClientSession, trainee: int, conversation: int) -> Any:
        sender = f"bench-actions-{uuid.uuid4().hex}"
        opening = _custom(
            await _post_json(
                http,
                self.rasa.url,
                {"sender": sender, "message": _start_command(_seed(trainee, conversation))},
            )
        )
        slots = {"scenario_id": "difficult-news", "patient_state": opening["state"]}
        return _ActionConversation(sender, slots)

    async def send(self, http: aiohttp.ClientSession, conv: Any, turn: int) -> bool:
        text = TRAINEE_LINES[turn % len(TRAINEE_LINES)]
        tracker = {
            "sender_id": conv.sender,
            "slots": conv.slots,
            "latest_message": {"text": text},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
        body = {
            "next_action": "action_patient_turn",
            "sender_id": conv.sender,
            "tracker": tracker,
            "domain": {},
            "version": "3.6.21",
        }
        answer = await _post_json(http, self.url, body)
        payload = _custom(answer.get("responses"))
        for event in answer.get("events") or []:
            if event.get("event") == "slot":
                conv.slots[event["name"]] = event["value"]
        return not payload.get("ended")


class StockTarget:
    """The stock ``rasa init`` assistant over its REST channel."""

    name = "stock rasa init"

    def __init__(self, port: int = STOCK_PORT) -> None:
        self.url = f"http://{HOST}:{port}/webhooks/rest/webhook"

    async def open(self, http: aiohttp.ClientSession, trainee: int, conversation: int) -> Any:
        return f"bench-stock-{trainee}-{conversation}-{uuid.uuid4().hex[:8]}"

    async def send(self, http: aiohttp.ClientSession, conv: Any, turn: int) -> bool:
        answers = await _post_json(http, self.url, {"sender": conv, "message": STOCK_LINES[turn % len(STOCK_LINES)]})
        if not isinstance(answers, list):
            raise RequestFailed(f"unexpected answer {str(answers)[:200]}")
        return True


# -- the load harness --------------------------------------------------------------------------------------
async def _trainee(
    target: Target,
    http: aiohttp.ClientSession,
    trainee: int,
    conversations: int,
    turns: int,
    result: LoadResult,
    warmup: int,
) -> None:
    seen = 0
    consecutive_errors = 0
    for c in range(conversations):
        conv: Any = None
        for t in range(turns):
            if consecutive_errors >= MAX_CONSECUTIVE_ERRORS:
                log.error(
                    "%s: trainee %d gives up after %d errors in a row",
                    target.name,
                    trainee,
                    consecutive_errors,
                )
                return
            try:
                if conv is None:
                    conv = await target.open(http, trainee, c)
                started = time.perf_counter()
                still_open = await target.send(http, conv, t)
                elapsed_ms = (time.perf_counter() - started) * 1000
            except (aiohttp.ClientError, asyncio.TimeoutError, RequestFailed, KeyError, TypeError) as exc:
                result.errors += 1
                consecutive_errors += 1
                result.first_error = result.first_error or f"{type(exc).__name__}: {exc}"
                conv = None
                continue
            consecutive_errors = 0
            seen += 1
            if seen > warmup:
                result.latencies_ms.append(elapsed_ms)
            if not still_open:
                conv = None  # the patient closed the scenario early: carry on in a fresh conversation


async def _run_load(target: Target, concurrency: int, conversations: int, turns: int, warmup: int) -> LoadResult:
    result = LoadResult(target.name, concurrency)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    connector = aiohttp.TCPConnector(limit=concurrency * 2)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
        started = time.perf_counter()
        await asyncio.gather(
            *(_trainee(target, http, i, conversations, turns, result, warmup) for i in range(concurrency))
        )
        result.wall_s = time.perf_counter() - started
    return result


def run_load(target: Target, concurrency: int, conversations: int, turns: int) -> LoadResult:
    warmup = WARMUP_TURNS if concurrency == 1 else 0
    log.info("%s: %d trainee(s) x %d conversation(s) x %d turns", target.name, concurrency, conversations, turns)
    result = asyncio.run(_run_load(target, concurrency, conversations, turns, warmup))
    log.info(
        "%s at %d: p50 %.1f ms, p95 %.1f ms over %d turns, %d errors",
        target.name,
        concurrency,
        result.p50 or math.nan,
        result.p95 or math.nan,
        len(result.latencies_ms),
        result.errors,
    )
    if result.first_error:
        log.warning("%s at %d: first error: %s", target.name, concurrency, result.first_error)
    return result


# -- processes ---------------------------------------------------------------------------------------------
def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


def _timed_run(cmd: list[str], cwd: Path, log_path: Path, env: dict[str, str]) -> float:
    """Run a command to completion (bounded by TRAIN_TIMEOUT_S); its seconds, or raise with the log's tail."""
    started = time.monotonic()
    with open(log_path, "ab") as out:
        proc = subprocess.run(
            cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=TRAIN_TIMEOUT_S, check=False
        )
    if proc.returncode != 0:
        tail = log_path.read_text(errors="replace")[-1500:]
        raise RuntimeError(f"{' '.join(cmd[:2])} failed with exit code {proc.returncode}:\n{tail}")
    return time.monotonic() - started


def _children_map() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(entry))
    return kids


def _vmrss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MB (MiB)."""
    kids = _children_map()
    total_kb, stack, seen = 0, [pid], set()
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        total_kb += _vmrss_kb(current)
        stack.extend(kids.get(current, []))
    return total_kb / 1024


def _wait_stock(url: str, proc: subprocess.Popen[bytes], timeout_s: float) -> bool:
    """Ready when the REST channel answers "hello" with a non-empty list (the model has loaded)."""

    async def probe() -> bool:
        deadline = time.monotonic() + timeout_s
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    async with http.post(url, json={"sender": "bench-ready", "message": "hello"}) as resp:
                        if resp.status == 200 and await resp.json(content_type=None):
                            return True
                except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
                    pass
                await asyncio.sleep(0.5)
        return False

    return asyncio.run(probe())


# -- the parts of the benchmark ----------------------------------------------------------------------------
@dataclass
class Figures:
    train_rasa_s: float | None = None
    train_scorer_s: float | None = None
    scorer: dict[str, Any] | None = None
    loads: dict[str, LoadResult] = field(default_factory=dict)
    rss_mb: dict[str, float] = field(default_factory=dict)
    stock_rss_mb: float | None = None
    stock_init_s: float | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def train_s(self) -> float | None:
        if self.train_rasa_s is None or self.train_scorer_s is None:
            return None
        return self.train_rasa_s + self.train_scorer_s

    def p(self, key: str, q: int) -> float | None:
        result = self.loads.get(key)
        return None if result is None else percentile(result.latencies_ms, q)


def measure_training(tmp: Path, figures: Figures) -> None:
    out = tmp / "train"
    out.mkdir()
    env = _env(RASA_CACHE_DIRECTORY=str(out / "rasa-cache"))  # from scratch: no cached components
    log.info("Training the scorer from scratch ...")
    figures.train_scorer_s = _timed_run(
        [str(BIN / "rapport"), "train-scorer", "--out", str(out / "scorer")],
        ROOT,
        tmp / "log" / "train-scorer.log",
        env,
    )
    log.info("Training the Rasa model from scratch ...")
    figures.train_rasa_s = _timed_run(
        [str(BIN / "rasa"), "train", "--fixed-model-name", "rapport", "--out", str(out / "models")],
        ROOT,
        tmp / "log" / "train-rasa.log",
        env,
    )
    shutil.rmtree(out, ignore_errors=True)


def _scorer_child() -> None:
    """Runs in a child process: pin to one core, load the scorer, time ``score`` sentence by sentence."""
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    from bot.runtime import skip_tensorflow_probe

    skip_tensorflow_probe()
    started = time.perf_counter()
    from bot.scoring import Scorer

    scorer = Scorer()
    load_s = time.perf_counter() - started
    distinct = scorer_corpus()
    sentences = repeat_to(distinct, SCORER_SENTENCES)
    for sentence in distinct[:20]:  # warm-up, not timed
        scorer.score(sentence)
    timings: list[float] = []
    begun = time.perf_counter()
    from bot.scoring.pipeline import ActModel

    for sentence in sentences:
        ActModel._ranked.cache_clear()  # the corpus repeats: time every sentence as if it were new
        t0 = time.perf_counter()
        scorer.score(sentence)
        timings.append(time.perf_counter() - t0)
    total = time.perf_counter() - begun
    sys.stdout.write(
        json.dumps(
            {
                "cpu": cpu,
                "sentences": len(sentences),
                "distinct": len(distinct),
                "seconds": total,
                "load_s": load_s,
                "per_s": len(sentences) / total,
                "p50_ms": (percentile(timings, 50) or 0) * 1000,
                "p95_ms": (percentile(timings, 95) or 0) * 1000,
            }
        )
        + "\n"
    )


def measure_scorer(tmp: Path, figures: Figures) -> None:
    log.info("Scorer throughput on one core (%d sentences) ...", SCORER_SENTENCES)
    env = _env(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, "-c", "from bot.bench import _scorer_child; _scorer_child()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TRAIN_TIMEOUT_S,
        check=False,
    )
    (tmp / "log" / "scorer-bench.log").write_text(proc.stderr)
    if proc.returncode != 0:
        raise RuntimeError(f"the scorer benchmark failed:\n{proc.stderr[-1500:]}")
    figures.scorer = json.loads(proc.stdout.strip().splitlines()[-1])


def measure_ours(tmp: Path, args: argparse.Namespace, figures: Figures) -> None:
    from bot.services import Ports, Services

    model = ROOT / "models" / "rapport.tar.gz"
    if not model.exists():
        raise RuntimeError(f"No Rasa model at {model}; run `make train` first.")
    services = Services(
        model=model,
        database_url=f"sqlite:///{tmp}/bench.db",
        ports=Ports(web=WEB_PORT, rasa=RASA_PORT, actions=ACTIONS_PORT),
        log_dir=tmp / "log",
    )
    log.info(
        "Starting Rasa, the action server and the web app on ports %d/%d/%d ...",
        RASA_PORT,
        ACTIONS_PORT,
        WEB_PORT,
    )
    started = time.monotonic()
    try:
        services.start(timeout_s=START_TIMEOUT_S)
        log.info("Our servers are up in %.0f s", time.monotonic() - started)
        turns, conversations = args.turns, args.conversations
        figures.loads["ours_1"] = run_load(WebTarget(), 1, conversations, turns)
        figures.loads["ours_8"] = run_load(WebTarget(), CONCURRENCY, conversations, turns)
        # Where the time goes: the same conversations one layer down, at concurrency 1.
        figures.loads["rasa_1"] = run_load(RasaTarget(), 1, conversations, turns)
        figures.loads["actions_1"] = run_load(ActionsTarget(), 1, conversations, turns)
        for name, proc in services.procs.items():
            figures.rss_mb[name] = tree_rss_mb(proc.pid)
        failed = services.failed()
        if failed:
            figures.problems.append(f"the {failed} server stopped during the benchmark")
    finally:
        log.info("Stopping our servers ...")
        services.stop()


def measure_stock(tmp: Path, args: argparse.Namespace, figures: Figures) -> None:
    stock = tmp / "stock"
    stock.mkdir()
    log.info("rasa init --no-prompt (creates and trains the stock assistant) ...")
    figures.stock_init_s = _timed_run(
        [str(BIN / "rasa"), "init", "--no-prompt", "--init-dir", str(stock)],
        stock,
        tmp / "log" / "stock-init.log",
        _env(),
    )
    log.info("Stock assistant initialised and trained in %.0f s", figures.stock_init_s)
    cmd = [
        str(BIN / "rasa"),
        "run",
        "--model",
        str(stock / "models"),
        "--interface",
        HOST,
        "--port",
        str(STOCK_PORT),
        "--credentials",
        str(stock / "credentials.yml"),
    ]
    with open(tmp / "log" / "stock-run.log", "ab") as out:
        proc = subprocess.Popen(
            cmd, cwd=stock, env=_env(), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        if not _wait_stock(f"http://{HOST}:{STOCK_PORT}/webhooks/rest/webhook", proc, START_TIMEOUT_S):
            raise RuntimeError(f"the stock assistant did not start; see {tmp / 'log' / 'stock-run.log'}")
        target = StockTarget()
        figures.loads["stock_1"] = run_load(target, 1, args.conversations, args.turns)
        figures.loads["stock_8"] = run_load(target, CONCURRENCY, args.conversations, args.turns)
        figures.stock_rss_mb = tree_rss_mb(proc.pid)
    finally:
        from bot.services import stop_group

        log.info("Stopping the stock assistant ...")
        stop_group(proc)


# -- the report --------------------------------------------------------------------------------------------
def _fmt(value: float | None, digits: int = 1, unit: str = "") -> str:
    return "-" if value is None else f"{value:,.{digits}f}{unit}"


def summary(figures: Figures) -> dict[str, float | None]:
    scorer_rate = figures.scorer["per_s"] if figures.scorer else None
    rss_total = sum(figures.rss_mb.values()) if figures.rss_mb else None
    return {
        "turn_p50_ms": rounded(figures.p("ours_1", 50)),
        "turn_p95_ms": rounded(figures.p("ours_1", 95)),
        "conc8_p95_ms": rounded(figures.p("ours_8", 95)),
        "stock_p50_ms": rounded(figures.p("stock_1", 50)),
        "stock_p95_ms": rounded(figures.p("stock_1", 95)),
        "stock_conc8_p95_ms": rounded(figures.p("stock_8", 95)),
        "scorer_sentences_per_s": rounded(scorer_rate, 0),
        "rss_mb_total": rounded(rss_total),
        "train_s": rounded(figures.train_s),
    }


def table(figures: Figures, args: argparse.Namespace) -> list[str]:
    lines = [
        f"Rapport benchmark: {args.turns} trainee turns per conversation, {args.conversations} conversations "
        f"per trainee, warm-up {WARMUP_TURNS} turns discarded at concurrency 1, {os.cpu_count()} CPUs",
        "",
    ]
    head = (
        f"{'per-turn latency (POST round trip)':<36} {'conc':>4} {'turns':>6} {'err':>4} {'p50 ms':>9} "
        f"{'p95 ms':>9} {'max ms':>9} {'turns/s':>8}"
    )
    lines += [head, "-" * len(head)]
    for key in ("ours_1", "ours_8", "stock_1", "stock_8", "rasa_1", "actions_1"):
        r = figures.loads.get(key)
        if r is None:
            continue
        lat = r.latencies_ms
        lines.append(
            f"{r.name:<36} {r.concurrency:>4} {len(lat):>6} {r.errors:>4} {_fmt(r.p50):>9} "
            f"{_fmt(r.p95):>9} {_fmt(max(lat) if lat else None):>9} {_fmt(r.throughput):>8}"
        )
    p50s = {k: figures.p(k, 50) for k in ("ours_1", "rasa_1", "actions_1")}
    if all(v is not None for v in p50s.values()):
        web, rasa, actions = (float(p50s[k] or 0) for k in ("ours_1", "rasa_1", "actions_1"))
        lines += [
            "",
            "where a turn's time goes (p50, concurrency 1): "
            f"web app {web - rasa:.1f} ms, Rasa {rasa - actions:.1f} ms, action server {actions:.1f} ms "
            f"(of {web:.1f} ms)",
        ]
    lines.append("")
    if figures.scorer:
        s = figures.scorer
        lines.append(
            f"scorer on one core (cpu {s['cpu']}): {s['per_s']:,.0f} sentences/s over {s['sentences']:,} "
            f"({s['distinct']} distinct), p50 {s['p50_ms']:.2f} ms, p95 {s['p95_ms']:.2f} ms, "
            f"load {s['load_s']:.1f} s"
        )
    if figures.rss_mb:
        parts = ", ".join(f"{k} {v:,.0f}" for k, v in figures.rss_mb.items())
        lines.append(f"resident memory after load (MB): {parts}; total {sum(figures.rss_mb.values()):,.0f}")
    if figures.stock_rss_mb is not None:
        lines.append(f"stock rasa init server resident memory: {figures.stock_rss_mb:,.0f} MB")
    if figures.train_s is not None:
        lines.append(
            f"training from scratch: scorer {figures.train_scorer_s:.1f} s"
            f" + Rasa {figures.train_rasa_s:.1f} s = {figures.train_s:.1f} s"
        )
    if figures.stock_init_s is not None:
        lines.append(f"stock rasa init (scaffold + train): {figures.stock_init_s:.1f} s")
    s = summary(figures)
    rows = [
        (
            "turn p95 <= stock p95 (conc 1)",
            _fmt(s["turn_p95_ms"], 1, " ms"),
            _fmt(s["stock_p95_ms"], 1, " ms"),
            passes(s["turn_p95_ms"], "<=", s["stock_p95_ms"]),
        ),
        (
            "conc-8 p95 <= stock conc-8 p95",
            _fmt(s["conc8_p95_ms"], 1, " ms"),
            _fmt(s["stock_conc8_p95_ms"], 1, " ms"),
            passes(s["conc8_p95_ms"], "<=", s["stock_conc8_p95_ms"]),
        ),
        (
            "scorer >= 1000 sentences/s",
            _fmt(s["scorer_sentences_per_s"], 0, "/s"),
            f"{TARGET_SCORER_PER_S:,.0f}/s",
            passes(s["scorer_sentences_per_s"], ">=", TARGET_SCORER_PER_S),
        ),
        (
            "RSS total < 2500 MB",
            _fmt(s["rss_mb_total"], 0, " MB"),
            f"{TARGET_RSS_MB:,.0f} MB",
            passes(s["rss_mb_total"], "<", TARGET_RSS_MB),
        ),
        (
            "training < 180 s",
            _fmt(s["train_s"], 1, " s"),
            f"{TARGET_TRAIN_S:.0f} s",
            passes(s["train_s"], "<", TARGET_TRAIN_S),
        ),
    ]
    head = f"{'target':<34} {'measured':>12} {'limit':>12}  result"
    lines += ["", head, "-" * len(head)]
    lines += [f"{name:<34} {measured:>12} {limit:>12}  {result}" for name, measured, limit, result in rows]
    for problem in figures.problems:
        lines.append(f"problem: {problem}")
    return lines


def _part(name: str, func: Callable[[], None], figures: Figures) -> None:
    """Run one part; a failure is reported and the remaining parts still run."""
    try:
        func()
    except (RuntimeError, OSError, subprocess.SubprocessError, ValueError) as exc:
        log.error("%s failed: %s", name, exc)
        figures.problems.append(f"{name} failed: {str(exc).splitlines()[0]}")


def run_benchmark(args: argparse.Namespace) -> int:
    if args.turns < 1 or args.conversations < 1:
        log.error("--turns and --conversations must be at least 1")
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="rapport-bench-"))
    (tmp / "log").mkdir()
    log.info("Working folder (logs): %s", tmp)
    figures = Figures()
    _part("training", lambda: measure_training(tmp, figures), figures)
    _part("scorer throughput", lambda: measure_scorer(tmp, figures), figures)
    _part("our servers", lambda: measure_ours(tmp, args, figures), figures)
    if args.skip_stock:
        log.info("Skipping the stock assistant (--skip-stock)")
    else:
        _part("stock assistant", lambda: measure_stock(tmp, args, figures), figures)
    errors = sum(r.errors for r in figures.loads.values())
    if errors:
        figures.problems.append(f"{errors} request(s) failed; see the logs in {tmp / 'log'}")
    for line in table(figures, args):
        sys.stdout.write(line + "\n")
    sys.stdout.write(json.dumps(summary(figures)) + "\n")
    sys.stdout.flush()
    if figures.problems:
        log.warning("Keeping %s for its logs", tmp)
        return 1
    shutil.rmtree(tmp, ignore_errors=True)
    return 0
