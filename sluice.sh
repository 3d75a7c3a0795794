#!/usr/bin/env bash
# Sluice's entry point on a fresh Debian/Ubuntu machine with Swift:
#   ./sluice.sh run        set up everything (llama-server, SmolLM2, build) and start Sluice on the local model
#   ./sluice.sh test       set up everything and run the whole test suite (real SQLite, llama-server, loopback HTTP)
#   ./sluice.sh setup      set up and build what `run` runs, without starting it; prints the settings that find it
#                          (an environment file for deploy/systemd/sluice.service)
#   ./sluice.sh coverage   run the tests with coverage and print line coverage per target
#   ./sluice.sh simulate   run the fault-injecting upstream simulator on port 8081
#   ./sluice.sh bench [ttft]     time to first token through Sluice vs straight to llama-server (release build)
#   ./sluice.sh bench tokenizer  tokens/s of Sluice's tokenizer vs tiktoken on the test corpus (release build)
#   ./sluice.sh bench guard      precision/recall of the prompt guard on the labelled and the held-out set
#   ./sluice.sh bench personal-data  precision/recall of --mask-personal-data's finder per kind, and its cost
#   ./sluice.sh bench context    one long conversation with the local model: tokens sent with and without
#                                context management, and the summary it keeps
#   ./sluice.sh bench ui         a 10 000-token Markdown answer into headless Chromium: arrival-to-paint
#                                latency, long tasks, frame rate, JS heap
#   ./sluice.sh bench load       1, 10, 100, 1000 concurrent streams straight to the simulator, through a bare
#                                relay, through Sluice's /v1 gateway (on SQLite, and on a throwaway PostgreSQL) and through a LiteLLM proxy
#                                (installed from PyPI): TTFT, ITL, CPU, RSS; --api completions drives /v1/completions
#   ./sluice.sh bench chaos      every fault scenario once through Sluice and the simulator: what the client
#                                saw, retry waits announced vs observed, the cost of a retry decision
#   ./sluice.sh bench setup      bursts of 10 streamed turns: server CPU per turn up to its upstream call, Sluice
#                                vs the bare relay
#   ./sluice.sh bench embeddings /v1/embeddings straight to the simulator, through Sluice and through LiteLLM:
#                                latency added, CPU per call, RSS
set -euo pipefail
cd "$(dirname "$0")"
command="${1:-run}"
shift || true
case "$command" in
  run) exec scripts/run.sh "$@" ;;
  setup) exec scripts/setup.sh "$@" ;;
  test) exec scripts/test.sh "$@" ;;
  coverage) exec scripts/coverage.sh "$@" ;;
  bench)
    source scripts/env.sh
    # LiteLLM, the peer of the load and embeddings benches, in a virtualenv of its own (skip with
    # SLUICE_BENCH_LITELLM=0 or --litellm none): sets litellm_args.
    litellm_args=()
    bench_with_litellm() {
      if [ "${SLUICE_BENCH_LITELLM:-1}" = 1 ]; then
        eval "$(scripts/setup-litellm.sh | grep -E '^LITELLM=')"
        [ -n "${LITELLM:-}" ] && litellm_args=(--litellm "$LITELLM")
      fi
      return 0
    }
    case "${1:-ttft}" in
      tokenizer)
        shift
        sluice_setup_tokenizer_data
        mkdir -p .build && sluice_write_tokenizer_reference .build/tokenizer-reference.jsonl
        swift build -c release --product sluice >&2
        for encoding in o200k_base cl100k_base; do
          .build/release/sluice bench tokenizer --corpus .build/tokenizer-reference.jsonl --encoding "$encoding" "$@"
        done ;;
      guard)
        shift
        swift build -c release --product sluice >&2
        .build/release/sluice bench guard "$@"
        echo "--- held-out set (written after the rules were frozen; not used to tune them)"
        .build/release/sluice bench guard --set Tests/guard/holdout.jsonl "$@" ;;
      personal-data)
        shift
        swift build -c release --product sluice >&2
        exec .build/release/sluice bench personal-data "$@" ;;
      ui)
        shift
        sluice_setup_browser_tests
        sluice_setup_web_vendor
        swift build -c release --product sluice >&2
        exec python3 bench/ui.py --sluice .build/release/sluice "$@" ;;
      context)
        shift
        sluice_setup_local_model
        swift build -c release --product sluice >&2
        exec python3 bench/context.py --sluice .build/release/sluice "$@" ;;
      load)
        shift
        sluice_setup_tokenizer_data
        bench_with_litellm
        swift build -c release --product sluice >&2
        # A throwaway PostgreSQL for the "sluice-pg" row (skip with SLUICE_BENCH_POSTGRES=0).
        postgres_args=()
        if [ "${SLUICE_BENCH_POSTGRES:-1}" = 1 ]; then
          pg_dir=$(mktemp -d /tmp/sluice-bench-pg.XXXXXX)
          trap 'scripts/test-postgres.sh stop "$pg_dir"; rm -rf "$pg_dir"' EXIT
          eval "$(scripts/test-postgres.sh start "$pg_dir")"
          postgres_args=(--postgres "$SLUICE_TEST_POSTGRES_URL")
        fi
        .build/release/sluice bench load "${postgres_args[@]}" "${litellm_args[@]}" "$@" ;;
      chaos)
        shift
        swift build -c release --product sluice >&2
        exec python3 bench/chaos.py .build/release/sluice "$@" ;;
      embeddings)
        shift
        bench_with_litellm
        swift build -c release --product sluice >&2
        exec python3 bench/embeddings.py --sluice .build/release/sluice "${litellm_args[@]}" "$@" ;;
      setup)
        shift
        swift build -c release --product sluice >&2
        exec python3 bench/setup_cpu.py --sluice .build/release/sluice "$@" ;;
      ttft)
        [ "${1:-}" = ttft ] && shift
        sluice_setup_local_model
        swift build -c release --product sluice >&2
        exec python3 bench/ttft.py --sluice .build/release/sluice "$@" ;;
      *) echo "usage: ./sluice.sh bench [ttft|tokenizer|guard|context|ui|chaos|load|setup|embeddings]" >&2; exit 2 ;;
    esac ;;
  simulate) source scripts/env.sh && swift build --product sluice >&2 && exec .build/debug/sluice simulate "$@" ;;
  *) echo "usage: ./sluice.sh run|test|coverage|simulate|bench" >&2; exit 2 ;;
esac
