"""One module per engine under benchmark, each with `make_engine() -> bench.harness.Engine`."""
