"""A small web agent, instrumented with OpenTelemetry, for specsim's "bring your own agent" path.

It browses a site page by page: it fetches a page with httpx, shows the page and its links
to an LLM through the openai SDK, and follows the link the LLM picks until the LLM answers.
The OpenAI and httpx instrumentations record the LLM calls (GenAI semantic conventions) and
the HTTP requests; the agent adds an ``invoke_agent`` span per session and an
``execute_tool`` span per page fetch carrying ``specsim.page.out_degree``. Spans go over
OTLP/HTTP to ``OTEL_EXPORTER_OTLP_ENDPOINT`` (e.g. ``specsim collect``).

Run it against ``specsim serve-site`` and ``specsim serve-llm`` (see docs/otel.md):

    python agent.py --site http://127.0.0.1:8080/ --llm http://127.0.0.1:8081/v1 \
        --sessions 4 --measured measured.jsonl

``--measured`` writes each session's wall-clock latency as the agent measured it, so the
import can be checked against it.
"""

import argparse
import json
import re
import sys
import time
from html.parser import HTMLParser
from urllib.parse import urljoin

import httpx
from openai import OpenAI
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

SYSTEM = (
    "You browse a website to solve a task. Each turn shows the current page and its "
    "numbered links. Reply `CLICK [n]` to follow link n, or `ANSWER: <answer>` when done."
)


class Page(HTMLParser):
    """Title, visible text and links of an HTML page."""

    def __init__(self, base):
        super().__init__()
        self.base = base
        self.title = ""
        self.text = []
        self.links = []
        self._in_title = False
        self._href = None
        self._label = []

    def handle_starttag(self, tag, attrs):
        if tag == "title":
            self._in_title = True
        elif tag == "a":
            self._href = dict(attrs).get("href")
            self._label = []

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        elif tag == "a" and self._href is not None:
            label = " ".join("".join(self._label).split())
            self.links.append((urljoin(self.base, self._href), label))
            self._href = None

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        elif self._href is not None:
            self._label.append(data)
        elif data.strip():
            self.text.append(data.strip())


def fetch(tracer, web, url):
    """Fetches and parses a page inside an execute_tool span."""
    with tracer.start_as_current_span(
        "execute_tool fetch_page",
        attributes={"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "fetch_page"},
    ) as span:
        response = web.get(url)
        response.raise_for_status()
        page = Page(str(response.url))
        page.feed(response.text)
        span.set_attribute("specsim.page.out_degree", len(page.links))
        return str(response.url), page


def prompt(task, step, url, page):
    lines = [
        f"Task: {task}",
        f"Step: {step}",
        f"URL: {url}",
        f"Title: {page.title}",
        "Page text:",
        " ".join(page.text)[:2000],
        "",
        "Buttons:",
    ]
    lines += [f"[{i}] {label}" for i, (_, label) in enumerate(page.links)]
    return "\n".join(lines) + "\n"


def session(tracer, llm, web, args, task):
    """One task; returns (trace id, measured latency in seconds, iterations)."""
    with tracer.start_as_current_span(
        "invoke_agent web-agent",
        attributes={"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "web-agent"},
    ) as span:
        t0 = time.perf_counter()
        url, page = fetch(tracer, web, args.site)
        steps = 0
        for step in range(args.max_steps):
            steps += 1
            reply = llm.chat.completions.create(
                model=args.model,
                messages=[
                    {"role": "system", "content": SYSTEM},
                    {"role": "user", "content": prompt(task, step, url, page)},
                ],
            )
            text = reply.choices[0].message.content or ""
            m = re.match(r"\s*CLICK \[(\d+)\]", text)
            if m is None or int(m.group(1)) >= len(page.links):
                break
            url, page = fetch(tracer, web, page.links[int(m.group(1))][0])
        latency = time.perf_counter() - t0
        trace_id = format(span.get_span_context().trace_id, "032x")
    return trace_id, latency, steps


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--site", required=True, help="start page URL (specsim serve-site)")
    ap.add_argument("--llm", required=True, help="OpenAI-compatible base URL, e.g. http://127.0.0.1:8081/v1")
    ap.add_argument("--model", default="target", help="model name of the LLM")
    ap.add_argument("--sessions", type=int, default=4, help="tasks to run, one after the other")
    ap.add_argument("--max-steps", type=int, default=10, help="most LLM calls per task")
    ap.add_argument("--measured", help="write each session's measured latency here (JSON Lines)")
    args = ap.parse_args()

    provider = TracerProvider(resource=Resource.create({"service.name": "specsim-example-agent"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    OpenAIInstrumentor().instrument()
    HTTPXClientInstrumentor().instrument()
    tracer = trace.get_tracer("specsim.example.agent")

    llm = OpenAI(base_url=args.llm, api_key="not-needed-by-serve-llm", max_retries=0)
    rows = []
    with httpx.Client(follow_redirects=True, timeout=30.0) as web:
        for i in range(args.sessions):
            trace_id, latency, steps = session(tracer, llm, web, args, f"example task {i}")
            rows.append({"session": trace_id, "latency_s": latency, "llm_calls": steps})
            print(f"session {i}: {steps} LLM calls, {latency:.3f} s (trace {trace_id})", file=sys.stderr)
    provider.shutdown()  # flushes the spans to the exporter
    if args.measured:
        with open(args.measured, "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
