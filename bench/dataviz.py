"""Map, network and groupings benchmark in headless Chromium: prints the figures kept in bench/RESULTS.md.

1. The real 2017 export (imported by the directory's importer, indexed as a new search instance does): the map
   interactive after navigation, a filter change redrawn (countries zoomed out, clusters zoomed in).
2. 100,000 generated records around European cities: the map's first render (zoomed out and zoomed in), frames
   per second while panning and zooming, and a network of 10,000 nodes interactive.
3. The JSON answers: the search service's dataviz functions in process (what each RPC costs) and over HTTP.

The pages and the API are served by bench/dataviz_site.py (the gateway's templates, static files and page
helpers, over an index in this process).

Run: .venv/bin/python bench/dataviz.py [--records 100000] [--runs 7]
     .venv/bin/python bench/dataviz.py --api-only [--records 100000] [--repeat 100]  (part 3 in process only:
     no Chromium, no real data; what a new question costs each dataviz function)
"""
import argparse
import gc
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import dataviz_site  # noqa: E402
from services.search import dataviz  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run"]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def summary(values: list[float]) -> str:
    values = sorted(values)
    p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
    return f"median {statistics.median(values):.1f} · p99 {p99:.1f} · max {values[-1]:.1f} (n={len(values)})"


def wait_ready(page, selector: str, after: float = 0.0, timeout: float = 20_000) -> float:
    """Until the view says it is drawn after `after` (page clock, ms); returns when, on the page's clock."""
    page.wait_for_function(
        "([selector, after]) => { const r = document.querySelector(selector);"
        " return r && r.getAttribute('data-ready') === 'true' && +r.getAttribute('data-drawn-at') > after; }",
        arg=[selector, after], timeout=timeout, polling="raf")
    return page.evaluate(f"+document.querySelector({selector!r}).getAttribute('data-drawn-at')")


def interactive_after_navigation(browser, url: str, selector: str, runs: int) -> list[float]:
    """Milliseconds from navigation start to the view drawn and answering, each in a fresh tab (cold cache)."""
    times = []
    for _ in range(runs):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto(url)
        times.append(wait_ready(page, selector))
        context.close()
    return times


def filter_redraws(browser, url: str, boxes: list[str], runs: int) -> list[float]:
    """Milliseconds from ticking a filter to the view redrawn with the new answer."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(url)
    wait_ready(page, "#dsi-map")
    times = []
    for run in range(runs):
        for box in boxes:
            started = page.evaluate(f"() => {{ const t = performance.now(); document.querySelector({box!r}).click();"
                                    " return t; }")
            times.append(wait_ready(page, "#dsi-map", started) - started)
    context.close()
    return times


def frames_while_moving(browser, url: str) -> dict:
    """Frames per second while the map is dragged and wheeled for about two seconds each (real input events)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(url)
    wait_ready(page, "#dsi-map")
    box = page.locator("#dsi-map svg").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    figures = {}
    for gesture in ("pan", "zoom"):
        page.evaluate("() => { window.__frames = []; const tick = (t) => { window.__frames.push(t);"
                      " if (window.__frames.length < 100000 && !window.__stop) requestAnimationFrame(tick); };"
                      " window.__stop = false; requestAnimationFrame(tick); }")
        if gesture == "pan":
            page.mouse.move(x, y)
            page.mouse.down()
            for step in range(120):
                page.mouse.move(x + 200 * __import__("math").sin(step / 12), y + 80 * __import__("math").cos(step / 12))
            page.mouse.up()
        else:
            page.mouse.move(x, y)
            for step in range(60):
                page.mouse.wheel(0, -40 if step < 30 else 40)
        frames = page.evaluate("() => { window.__stop = true; return window.__frames; }")
        elapsed = (frames[-1] - frames[0]) / 1000
        gaps = sorted(b - a for a, b in zip(frames, frames[1:]))
        figures[gesture] = {"fps": round((len(frames) - 1) / elapsed, 1), "seconds": round(elapsed, 2),
                            "worst_frame_ms": round(gaps[-1], 1) if gaps else None}
        wait_ready(page, "#dsi-map")
    context.close()
    return figures


def network_interactive(browser, url: str, runs: int) -> dict:
    """Navigation → the network drawn and answering input; then the frame time while its layout still runs."""
    times, nodes = [], 0
    for _ in range(runs):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto(url)
        times.append(wait_ready(page, "#dsi-network", timeout=60_000))
        nodes = int(page.get_attribute("#dsi-network", "data-nodes"))
        frames = page.evaluate("() => new Promise(done => { const seen = []; const tick = (t) => { seen.push(t);"
                               " if (seen.length < 60) requestAnimationFrame(tick); else done(seen); };"
                               " requestAnimationFrame(tick); })")
        context.close()
    gaps = [b - a for a, b in zip(frames, frames[1:])]
    return {"ms": times, "nodes": nodes, "fps_while_laying_out": round(1000 / statistics.mean(gaps), 1)}


def api_in_process(backend, calls: list[tuple], repeat: int, cpu: dict | None = None) -> dict:
    """Wall-clock milliseconds of each call (and, into `cpu`, the process's CPU milliseconds)."""
    figures = {}
    for name, function, params in calls:
        times, used = [], []
        for _ in range(repeat):
            started, cpu_started = time.perf_counter(), time.process_time()
            function(backend, params)
            times.append(ms(time.perf_counter() - started))
            used.append(ms(time.process_time() - cpu_started))
        figures[name] = times
        if cpu is not None:
            cpu[name] = used
    return figures


def api_over_http(base: str, paths: list[str], repeat: int) -> dict:
    figures = {}
    for path in paths:
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            with urllib.request.urlopen(base + path) as response:
                response.read()
            times.append(ms(time.perf_counter() - started))
        figures[path] = times
    return figures


API_CALLS = [
    ("map_countries {}", dataviz.country_counts, {}),
    ("map_countries kind+area", dataviz.country_counts, {"kind": ["project"], "social_areas": ["health-and-care"]}),
    ("map_features zoom 4 Europe", dataviz.map_features, {"zoom": 4, "bbox": "-25,34,45,72"}),
    ("map_features zoom 7 Iberia", dataviz.map_features, {"zoom": 7, "bbox": "-10,36,4,44"}),
    ("map_features zoom 7 + text", dataviz.map_features, {"zoom": 7, "bbox": "-10,36,4,44", "q": "open data"}),
    ("groupings country→technologies", dataviz.groupings, {"by": "country", "then": "technologies"}),
    ("network 1,000 nodes", dataviz.network, {"limit": 1000}),
]
HTTP_PATHS = ["/api/map/countries", "/api/map?zoom=7&bbox=-10,36,4,44", "/api/map?zoom=4&bbox=-25,34,45,72",
              "/api/groupings?by=country&then=kind"]


def as_started(index) -> None:
    """The index as a search service holds it once started: its files and columns warm, and what exists then frozen
    (dsi/lifecycle.py), so full collections no longer walk the index's 100,000 versions (which cost a network
    call 20–40 ms of CPU every dozen calls)."""
    api_in_process(index.backend, API_CALLS, 3)
    gc.freeze()


def api_only(records: int, repeat: int) -> None:
    """The in-process JSON figures alone: a new question to each dataviz function (no answer cache)."""
    print(f"# dataviz API in process, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}, load {os.getloadavg()[0]:.1f}")
    started = time.perf_counter()
    generated = dataviz_site.generated_index(Path(tempfile.mkdtemp(prefix="dsi-bench-dataviz-")), records)
    print(f"{records} generated records indexed in {time.perf_counter() - started:.1f} s")
    as_started(generated)
    n = f"{records // 1000}k"
    cpu = {}
    for name, times in api_in_process(generated.backend, API_CALLS, repeat, cpu).items():
        print(f"{n}: {name}, in process (ms): {summary(times)}")
        # the CPU the answer took (every thread of the process): what other work on a shared machine cannot add to
        print(f"{n}: {name}, CPU time (ms): {summary(cpu[name])}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--api-only", action="store_true",
                        help="only the dataviz functions in process over the generated records (no browser)")
    parser.add_argument("--repeat", type=int, default=100, help="calls of each function with --api-only")
    options = parser.parse_args()
    if options.api_only:
        return api_only(options.records, options.repeat)
    from playwright.sync_api import sync_playwright

    print(f"# dataviz benchmark, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}, load {os.getloadavg()[0]:.1f}")
    folder = Path(tempfile.mkdtemp(prefix="dsi-bench-dataviz-"))
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
    results = {}
    try:
        started = time.perf_counter()
        real = dataviz_site.real_index(folder / "real")
        print(f"real data indexed in {time.perf_counter() - started:.1f} s")
        as_started(real)
        base, server = dataviz_site.serve(real)
        results["real: map interactive after navigation (ms)"] = interactive_after_navigation(
            browser, base + "/map", "#dsi-map", options.runs)
        results["real: map zoomed in (z 7) interactive after navigation (ms)"] = interactive_after_navigation(
            browser, base + "/map?lat=41.6&lon=1.5&z=7", "#dsi-map", options.runs)
        boxes = ["input[name=kind][value=project]", "input[name=social_areas][value=health-and-care]",
                 "input[name=social_areas][value=health-and-care]", "input[name=kind][value=project]"]
        results["real: filter change redrawn, zoomed out (ms)"] = filter_redraws(
            browser, base + "/map", boxes, options.runs)
        results["real: filter change redrawn, zoomed in (ms)"] = filter_redraws(
            browser, base + "/map?lat=41.6&lon=1.5&z=7", boxes, options.runs)
        for name, times in api_in_process(real.backend, API_CALLS, 200).items():
            results[f"real: {name}, in process (ms)"] = times
        server.shutdown()

        started = time.perf_counter()
        generated = dataviz_site.generated_index(folder / "generated", options.records)
        print(f"{options.records} generated records indexed in {time.perf_counter() - started:.1f} s")
        as_started(generated)
        base, server = dataviz_site.serve(generated)
        n = f"{options.records // 1000}k"
        results[f"{n}: map first render, zoomed out (ms)"] = interactive_after_navigation(
            browser, base + "/map", "#dsi-map", options.runs)
        results[f"{n}: map first render, zoomed in (z 6, clusters) (ms)"] = interactive_after_navigation(
            browser, base + "/map?lat=48&lon=8&z=6", "#dsi-map", options.runs)
        results[f"{n}: filter change redrawn, zoomed in (ms)"] = filter_redraws(
            browser, base + "/map?lat=48&lon=8&z=6", boxes, max(2, options.runs // 2))
        moving = frames_while_moving(browser, base + "/map?lat=48&lon=8&z=6")
        network = network_interactive(browser, base + "/map/network?limit=10000", max(3, options.runs // 2))
        results[f"{n}: network of {network['nodes']} nodes interactive after navigation (ms)"] = network["ms"]
        for name, times in api_in_process(generated.backend, API_CALLS, 100).items():
            results[f"{n}: {name}, in process (ms)"] = times
        for path, times in api_over_http(base, HTTP_PATHS, 200).items():
            results[f"{n}: GET {path} over HTTP (ms)"] = times
        server.shutdown()
    finally:
        browser.close()
    for name, values in results.items():
        print(f"{name}: {summary(values)}")
    print(f"{n}: frames per second while moving: {json.dumps(moving)}")
    print(f"{n}: network frames per second while its layout runs: {network['fps_while_laying_out']}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    os._exit(0)  # playwright's driver and the servers' threads end with the process


if __name__ == "__main__":
    main()
