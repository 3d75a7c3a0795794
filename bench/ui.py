"""UI bench: a 10 000-token Markdown-rich answer streamed from the simulator through Sluice into headless
Chromium, measured in the page.

Starts `sluice simulate` (the `markdown` scenario: headings, lists, tables, highlighted code, links and
HTML tricks, repeated to --tokens, one token every --delay-ms), `sluice serve` in front of it and Debian's
Chromium through Selenium, sends one message and prints: token arrival → painted latency p50/p95/p99 (from
the moment the page receives a token event to the end of the animation frame that put it in the DOM), the
time each frame's render took, long tasks over 50 ms, the frame rate while streaming, and the JS heap after
the stream. Saves a screenshot. Stops everything by itself.

Usage: python3 bench/ui.py [--tokens 10000] [--delay-ms 5] [--sluice .build/release/sluice]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

from benchlib import add_unlimited_user, free_port, percentile, wait_until_serving
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=10_000)
    parser.add_argument("--delay-ms", type=int, default=5)
    parser.add_argument("--sluice", default=os.path.join(".build", "release", "sluice"))
    parser.add_argument("--screenshot", default=os.path.join(".build", "screenshots", "bench-ui.png"))
    args = parser.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    workdir = tempfile.mkdtemp(prefix="sluice-bench-ui-")
    db = os.path.join(workdir, "db.sqlite")
    simulator_port, port = free_port(), free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("SLUICE_")}
    processes = [subprocess.Popen(
        [args.sluice, "simulate", "--port", str(simulator_port), "--tokens", str(args.tokens), "--delay-ms", str(args.delay_ms)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    driver = None
    try:
        wait_until_serving(f"http://127.0.0.1:{simulator_port}/health")
        token = add_unlimited_user(args.sluice, db, env=env)
        processes.append(subprocess.Popen(
            [args.sluice, "serve", "--port", str(port), "--db", db, "--model", "sim-markdown",
             "--upstream", f"http://127.0.0.1:{simulator_port}/v1", "--web-root", os.path.join(root, "web"),
             "--max-output-tokens", str(args.tokens + 1000), "--max-message-chars", "2000", "--log-level", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env))
        base = f"http://127.0.0.1:{port}"
        wait_until_serving(f"{base}/readyz")

        options = webdriver.ChromeOptions()
        for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1100,800",
                         "--enable-precise-memory-info", "--js-flags=--expose-gc"]:
            options.add_argument(argument)
        options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
        driver = webdriver.Chrome(service=webdriver.ChromeService(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")),
                                  options=options)
        driver.set_script_timeout(30)
        driver.get(f"{base}/#token={token}")
        time.sleep(1)
        driver.execute_script("""
            window.__sluiceBench = {latencies: [], paintMs: [], longTasks: [], frames: 0};
            new PerformanceObserver((list) => {
              for (const entry of list.getEntries()) window.__sluiceBench.longTasks.push(entry.duration);
            }).observe({type: 'longtask', buffered: false});
            const count = () => { window.__sluiceBench.frames++; requestAnimationFrame(count); };
            requestAnimationFrame(count);
        """)
        driver.find_element(By.ID, "input").send_keys("Write the long trip plan.", Keys.ENTER)
        started = time.time()
        while not driver.find_elements(By.CSS_SELECTOR, ".message.streaming"):
            time.sleep(0.05)
        frames_at_start = driver.execute_script("return window.__sluiceBench.frames")
        stream_started = time.time()
        while driver.find_elements(By.CSS_SELECTOR, ".message.streaming"):
            if time.time() - started > 600:
                sys.exit("the stream did not finish within 10 minutes")
            time.sleep(0.25)
        stream_seconds = time.time() - stream_started
        frames = driver.execute_script("return window.__sluiceBench.frames") - frames_at_start
        result = driver.execute_script("""
            if (window.gc) window.gc();
            const b = window.__sluiceBench;
            return {latencies: b.latencies, paintMs: b.paintMs, longTasks: b.longTasks,
                    heap: performance.memory ? performance.memory.usedJSHeapSize : null,
                    tables: document.querySelectorAll('.message.assistant table').length};
        """)
        os.makedirs(os.path.dirname(args.screenshot), exist_ok=True)
        driver.save_screenshot(args.screenshot)
        latencies, paints, long_tasks = result["latencies"], result["paintMs"], result["longTasks"]
        print(f"UI bench: {len(latencies)} tokens of Markdown in {stream_seconds:.1f} s "
              f"({len(latencies) / stream_seconds:.0f} tokens/s), {result['tables']} tables")
        print(f"arrival -> painted   p50 {percentile(latencies, 50):6.1f} ms  p95 {percentile(latencies, 95):6.1f} ms  "
              f"p99 {percentile(latencies, 99):6.1f} ms  (goal: p95 <= 16 ms)")
        print(f"render per frame     p50 {percentile(paints, 50):6.2f} ms  p95 {percentile(paints, 95):6.2f} ms  "
              f"max {max(paints) if paints else float('nan'):6.2f} ms  over {len(paints)} frames")
        print(f"long tasks > 50 ms   {len(long_tasks)}" + (f" (longest {max(long_tasks):.0f} ms)" if long_tasks else "") + "  (goal: none)")
        print(f"frame rate           {frames / stream_seconds:.0f} fps while streaming")
        heap = result["heap"]
        print(f"JS heap after        {heap / 1e6:.1f} MB  (goal: < 100 MB)" if heap else "JS heap after        not available")
        print(f"screenshot           {args.screenshot}")
    finally:
        if driver:
            driver.quit()
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)


if __name__ == "__main__":
    main()
