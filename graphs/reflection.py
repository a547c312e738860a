"""The UALM-Reason loop as a LangGraph state machine.

plan → clarify → generate → vae → listen → caption → critique → review → decide
                    ▲                                                         │
                    └───────────────── revise ◄──── (rounds left) ────────────┤
                                                                              ▼
                                                                 finalize (best round) → END

With ``loop.candidates`` K > 1, generate makes K takes and every node up to critique handles
each; the critic's best take goes on (graphs/takes.py). ``review`` asks the user in interactive
mode and passes through otherwise.

Nodes are thin: each calls one role of ``runtime.context.roles`` and records
what it did in the round being built. Audio goes to files; the state holds refs.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import interrupt

from ualm_agent.audio import check_signal, load_ref, write_audio
from ualm_agent.components.listeners.composite import listen_for_plan
from ualm_agent.errors import UsageError, no_sound_event
from ualm_agent.roles import GenerationRequest, KnowsRenderable
from ualm_agent.schema import Candidate, Critique, LayoutEvent, Observation, RichCaption, Round, RunResult

from .context import AgentContext
from .review import read_review, review_payload, with_user_issues
from .takes import each_usable, settle, take_plan, take_seed
from .state import ReflectionInput, ReflectionOutput, ReflectionState

# Unreadable review answers in a row before the run stops with a usage error.
REVIEW_TRIES = 3
NODES = ("plan", "clarify", "generate", "vae", "listen", "caption", "critique", "review", "decide", "revise", "finalize")


def _emit(node: str, round_index: int | None, message: str, **extra: Any) -> None:
    """Progress for stream_mode="custom"; a no-op when nobody streams."""
    try:
        writer = get_stream_writer()
    except RuntimeError:
        return
    writer({"node": node, "round": round_index, "message": message, **extra})


def _timed(cur: Round, node: str, started: float, **update: Any) -> Round:
    timings = dict(cur.timings)
    timings[node] = round(time.perf_counter() - started, 6)
    return cur.model_copy(update={"timings": timings, **update})


def _audio_path(ctx: AgentContext, index: int, suffix: str) -> Path:
    return Path(ctx.workdir) / f"round_{index:02d}{suffix}.wav"


def passthrough_caption(prompt: str, duration_s: float) -> RichCaption:
    """Enrichment off: the prompt itself is the caption, one event spanning the clip."""
    return RichCaption(
        keywords=[prompt],
        layout=[LayoutEvent(label=prompt, phrase=prompt, start_s=0.0, end_s=duration_s)],
        description=prompt,
        duration_s=duration_s,
        assumptions=["Enrichment is off: the prompt is used as the caption."],
    )


# ---- nodes -------------------------------------------------------------------------------


def plan_node(state: ReflectionState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    ctx = runtime.context
    started = time.perf_counter()
    prompt = state.get("prompt", "")
    if not prompt.strip():
        raise UsageError("the prompt is empty")
    duration = state.get("duration_s") or ctx.config.duration_s
    if ctx.config.loop.enrich:
        plan = _with_sound(ctx.roles.planner.plan(prompt, duration_s=duration, answers=state.get("answers") or None), prompt)
        text = plan.to_text()
    else:
        plan = passthrough_caption(prompt, duration)
        text = prompt
    _emit("plan", 0, f"planned {len(plan.layout)} event(s): {', '.join(plan.labels())}")
    current = _timed(Round(index=0, plan=plan, prompt_text=text), "plan", started)
    return {"plan": plan, "prompt_text": text, "round_index": 0, "rounds": [], "current": current}


def clarify_node(state: ReflectionState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    ctx = runtime.context
    plan = state["plan"]
    if not (ctx.config.loop.interactive and ctx.config.loop.enrich and plan.questions):
        return {}
    started = time.perf_counter()
    _emit("clarify", 0, f"{len(plan.questions)} question(s) for the user")
    answers = interrupt({"kind": "questions", "questions": [q.model_dump() for q in plan.questions], "plan": plan.to_text()})
    if not isinstance(answers, dict):
        raise UsageError("dialogue answers must be a mapping of question key to answer")
    answers = {str(k): str(v) for k, v in answers.items()}
    merged = {**(state.get("answers") or {}), **answers}
    duration = state.get("duration_s") or ctx.config.duration_s
    plan = _with_sound(ctx.roles.planner.plan(state["prompt"], duration_s=duration, answers=merged), state["prompt"])
    text = plan.to_text()
    current = _timed(state["current"], "clarify", started, plan=plan, prompt_text=text)
    return {"plan": plan, "prompt_text": text, "answers": merged, "current": current}


def generate_node(state: ReflectionState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    ctx = runtime.context
    started = time.perf_counter()
    cur, plan, index = state["current"], state["plan"], state["round_index"]
    base = state.get("seed") if state.get("seed") is not None else ctx.config.seed
    count = ctx.config.loop.candidates
    _emit("generate", index, "generating" if count == 1 else f"generating {count} takes")
    takes = [
        _generate_take(ctx, take_plan(plan, j), state["prompt_text"], index, take_seed(base, index, j), j)
        for j in range(count)
    ]
    return {"current": _timed(cur, "generate", started, **settle(takes))}


def _generate_take(ctx: AgentContext, plan: RichCaption, text: str, index: int, seed: int, take: int) -> Candidate:
    """One take of the round: generated, passed through the codec, checked and written to a file."""
    request = GenerationRequest(caption=plan, text=text, duration_s=plan.duration_s, seed=seed, round_index=index)
    try:
        result = ctx.roles.generator.generate(request)
        audio = result.audio
        codec = ctx.roles.codec
        if codec is not None:
            audio = codec.decode(codec.encode(audio))
    except UsageError:
        raise  # a request the generator can never meet (a clip longer than it makes): no round will do better
    except Exception as exc:  # a bad round must not end the run; the best round is kept
        return Candidate(take=take, seed=seed, failed=True, error=f"generator failed: {exc}")
    unrendered = list(result.unrendered)
    if unrendered:
        _emit("generate", index, f"could not render: {', '.join(unrendered)}")
    notes = list(result.notes)
    for note in notes:
        _emit("generate", index, note)
    problem = check_signal(audio)
    if problem:
        # Recorded with what could not be rendered, so the revision can replace it.
        error = _generator_failure(problem, plan, unrendered)
        _emit("generate", index, f"take {take} failed: {error}" if take else f"round failed: {error}")
        return Candidate(take=take, seed=seed, failed=True, error=error, unrendered=unrendered, notes=notes)
    ref = write_audio(_audio_path(ctx, index, _take_suffix(take) + "_gen"), audio, base=ctx.workdir)
    return Candidate(take=take, seed=seed, audio=ref, unrendered=unrendered, notes=notes)


def _take_suffix(take: int) -> str:
    return f"_take{take}" if take else ""


def vae_node(state: ReflectionState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    ctx = runtime.context
    started = time.perf_counter()
    cur, index = state["current"], state["round_index"]

    def process(take: Candidate) -> dict[str, Any]:
        out = ctx.roles.vae.process(load_ref(take.audio, ctx.workdir), state["plan"])
        problem = check_signal(out)
        if problem:
            return {"failed": True, "error": f"vae output {problem}"}
        if take.take == 0:
            _emit("vae", index, f"{out.sample_rate} Hz, {out.channels} channel(s)")
        return {"audio_out": write_audio(_audio_path(ctx, index, _take_suffix(take.take)), out, base=ctx.workdir)}

    return {"current": _timed(cur, "vae", started, **each_usable(cur, process))}


def listen_node(state: ReflectionState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    ctx = runtime.context
    started = time.perf_counter()
    cur = state["current"]

    def hear(take: Candidate) -> dict[str, Any]:
        observation = listen_for_plan(ctx.roles.listener, load_ref(take.audio_out, ctx.workdir), state["plan"], ctx.config)
        heard = observation.summary()
        _emit("listen", cur.index, f"take {take.take} heard {heard}" if cur.candidates else f"heard {heard}")
        return {"observation": observation}

    return {"current": _timed(cur, "listen", started, **each_usable(cur, hear))}


def caption_node(state: ReflectionState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    ctx = runtime.context
    started = time.perf_counter()
    cur = state["current"]

    def caption(take: Candidate) -> dict[str, Any]:
        return {"heard": ctx.roles.captioner.caption(take.observation, audio=load_ref(take.audio_out, ctx.workdir))}

    return {"current": _timed(cur, "caption", started, **each_usable(cur, caption))}


def critique_node(state: ReflectionState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    ctx = runtime.context
    cur = state["current"]
    if not ctx.config.loop.critique:
        return {}
    started = time.perf_counter()

    # The critic scores every take; the best goes on to decide and revise.
    def judge(take: Candidate) -> dict[str, Any]:
        return {"critique": ctx.roles.critic.critique(state["plan"], take.heard, take.observation,
                                                      unrendered=tuple(take.unrendered))}

    update = each_usable(cur, judge)
    best = update["critique"]
    if "candidates" in update:
        scores = ", ".join(f"{t.score:.2f}" if not t.failed else "failed" for t in update["candidates"])
        _emit("critique", cur.index, f"takes scored {scores}; take {update['chosen']} goes on")
    _emit("critique", cur.index, f"score {best.score:.2f}, {best.verdict}", issues=len(best.issues))
    return {"current": _timed(cur, "critique", started, **update)}


def review_node(state: ReflectionState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """The user as critic (``--interactive``): show what the round made and heard, then take their word.

    The graph interrupts with the round's audio file, what was heard and the critic's issues.
    The answer (``Command(resume=...)``) is "accept", "stop", "continue" (the critic's verdict
    stands), or the user's own words about what is wrong, which become typed issues.
    """
    ctx = runtime.context
    loop = ctx.config.loop
    cur = state["current"]
    if not (loop.interactive and loop.review) or cur.failed or cur.audio_out is None:
        return {}
    started = time.perf_counter()
    # No progress line before the interrupt: a resumed node runs again from its start, so it would
    # print twice, and the review itself shows the round.
    payload = review_payload(cur, ctx.workdir, rounds_left=max(0, loop.reflect - cur.index))
    review = None
    # An answer that cannot be read is shown back with what is wrong and asked again (each interrupt
    # call in a node takes the next resume value); after a few tries it is a usage error.
    for attempt in range(REVIEW_TRIES):
        try:
            review = read_review(interrupt(payload), state["plan"], ctx.roles.planner)
            break
        except UsageError as exc:
            if attempt == REVIEW_TRIES - 1:
                raise
            payload = {**payload, "error": str(exc)}
    update: dict[str, Any] = {"review": review}
    if review.action == "revise":
        update["critique"] = with_user_issues(cur.critique, review)
    _emit("review", cur.index, f"user: {review.action}" + (f" ({len(review.issues)} issue(s))" if review.issues else ""))
    return {"current": _timed(cur, "review", started, **update)}


def decide_node(state: ReflectionState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    loop = runtime.context.config.loop
    cur, index = state["current"], state["round_index"]
    update: dict[str, Any] = {}
    if cur.chosen:
        # The chosen take's plan (its events' takes moved on) is what goes on to be revised.
        plan = take_plan(state["plan"], cur.candidates[cur.chosen].take)
        cur = cur.model_copy(update={"plan": plan})
        update = {"plan": plan, "current": cur}
    rounds = [*state.get("rounds", []), cur]
    # The critic judges; loop.accept_score lets a user demand a higher score on top.
    accepted = cur.critique is not None and cur.critique.verdict == "accept" and cur.critique.score >= loop.accept_score
    said = cur.user_action
    if said in ("accept", "stop"):
        route = "finalize"
    elif said == "revise":
        route = "revise" if index < loop.reflect else "finalize"
    elif not cur.failed and (accepted or not loop.critique):
        route = "finalize"
    elif index < loop.reflect:
        route = "revise"
    else:
        route = "finalize"
    _emit("decide", index, route)
    return {**update, "rounds": rounds, "route": route}


def revise_node(state: ReflectionState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    ctx = runtime.context
    started = time.perf_counter()
    cur, plan, index = state["current"], state["plan"], state["round_index"]
    # A round that failed because planned sounds could not be rendered is critiqued and revised like
    # a heard round that missed them: the reviser replaces them with sounds the generator can make.
    # With critique switched off (an ablation), nothing is critiqued, so nothing is revised.
    if not cur.failed:
        critique = cur.critique
    elif cur.unrendered and ctx.config.loop.critique:
        critique = _critique_unrendered(ctx, plan, cur.unrendered)
    else:
        critique = None
    revised = plan
    if critique is not None:
        generator = ctx.roles.generator
        renderable = list(generator.renderable_labels()) if isinstance(generator, KnowsRenderable) else None
        revised = ctx.roles.reviser.revise(plan, critique, renderable=renderable)
    if critique is None or (cur.failed and revised.layout == plan.layout):
        # Nothing in the plan to change: the next round differs by seed.
        _emit("revise", index, "retrying with a new seed")
    else:
        plan = revised
        _emit("revise", index, "; ".join(critique.instructions) or "revised")
    text = plan.to_text() if ctx.config.loop.enrich else state["prompt_text"]
    nxt = _timed(Round(index=index + 1, plan=plan, prompt_text=text), "revise", started)
    return {"plan": plan, "prompt_text": text, "round_index": index + 1, "current": nxt}


def _with_sound(plan: RichCaption, prompt: str) -> RichCaption:
    """The plan, unless it has no sound to play (no event, or only silence): a usage error then."""
    if not plan.has_sound():
        raise no_sound_event(prompt, "it asks only for silence" if plan.layout else "")
    return plan


def _generator_failure(problem: str, plan: RichCaption, unrendered: list[str]) -> str:
    """Why a round's audio is unusable, naming the planned sounds that could not be rendered."""
    if unrendered and not set(plan.labels()) - set(unrendered):
        return f"none of the planned sounds could be rendered: {', '.join(unrendered)}"
    if unrendered:
        return f"generator output {problem}; could not render {', '.join(unrendered)}"
    return f"generator output {problem}"


def _critique_unrendered(ctx: AgentContext, plan: RichCaption, unrendered: list[str]) -> Critique:
    """The configured critic's verdict on a round that made no audio: nothing heard, these labels unrendered."""
    nothing = Observation(duration_s=plan.duration_s, listener="none")
    return ctx.roles.critic.critique(plan, RichCaption(duration_s=plan.duration_s), nothing, unrendered=tuple(unrendered))


def select_best(rounds: list[Round], selection: str) -> int | None:
    """Best by critic score (ties: earliest), or the last usable round."""
    usable = [r for r in rounds if not r.failed]
    if not usable:
        return None
    if selection == "last":
        return rounds.index(usable[-1])
    return rounds.index(max(usable, key=lambda r: (r.score, -r.index)))


def finalize_node(state: ReflectionState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    rounds = state.get("rounds", [])
    # Rounds the user sent back for revision are the answer only when no other round made audio.
    kept = [r for r in rounds if r.user_action != "revise"]
    pool = kept if any(not r.failed for r in kept) else rounds
    pick = select_best(pool, runtime.context.config.loop.selection)
    best = None if pick is None else rounds.index(pool[pick])
    # A round the user accepted is the answer, whatever the critic scored.
    user_accepted = [i for i, r in enumerate(rounds) if r.user_action == "accept"]
    if user_accepted:
        best = user_accepted[-1]
    chosen = rounds[best] if best is not None else None
    accepted = bool(chosen and (chosen.user_action == "accept" or (chosen.critique and chosen.critique.verdict == "accept")))
    result = RunResult(
        prompt=state["prompt"],
        rounds=rounds,
        best_index=best,
        final=chosen.audio_out if chosen else None,
        accepted=accepted,
        run_dir=str(runtime.context.workdir),
    )
    _emit("finalize", best, f"best round {best}" if best is not None else "every round failed")
    return {"result": result}


def _after_generate(state: ReflectionState) -> str:
    return "decide" if state["current"].failed else "vae"


def _after_vae(state: ReflectionState) -> str:
    return "decide" if state["current"].failed else "listen"


def build_graph(*, checkpointer: Any = None, name: str = "ualm_reason"):
    """Compile the reflection graph. Run it with ``context=AgentContext(...)``."""
    g = StateGraph(ReflectionState, context_schema=AgentContext, input_schema=ReflectionInput, output_schema=ReflectionOutput)
    g.add_node("plan", plan_node)
    g.add_node("clarify", clarify_node)
    g.add_node("generate", generate_node)
    g.add_node("vae", vae_node)
    g.add_node("listen", listen_node)
    g.add_node("caption", caption_node)
    g.add_node("critique", critique_node)
    g.add_node("review", review_node)
    g.add_node("decide", decide_node)
    g.add_node("revise", revise_node)
    g.add_node("finalize", finalize_node)
    g.add_edge(START, "plan")
    g.add_edge("plan", "clarify")
    g.add_edge("clarify", "generate")
    g.add_conditional_edges("generate", _after_generate, ["vae", "decide"])
    g.add_conditional_edges("vae", _after_vae, ["listen", "decide"])
    g.add_edge("listen", "caption")
    g.add_edge("caption", "critique")
    g.add_edge("critique", "review")
    g.add_edge("review", "decide")
    g.add_conditional_edges("decide", lambda s: s["route"], ["revise", "finalize"])
    g.add_edge("revise", "generate")
    g.add_edge("finalize", END)
    return g.compile(checkpointer=checkpointer, name=name)


def run_config(context: AgentContext, thread_id: str | None = None) -> dict[str, Any]:
    """The invoke config: an explicit recursion limit (the round limit lives in ``decide``)."""
    config: dict[str, Any] = {"recursion_limit": context.config.loop.recursion_limit}
    if thread_id is not None:
        config["configurable"] = {"thread_id": thread_id}
    return config
