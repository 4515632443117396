# List the recipes
default:
    @just --list

# Build the release binary
build:
    cargo build --release --locked

# Run the test suite (unit and integration tests)
test:
    cargo test --locked

# The 200 px quality check against a float reference, printing every photo (needs ../shared)
quality:
    cargo test --locked --test it quality -- --nocapture

# Serve the bundled sample photos over loopback and run both phases against them
demo *ARGS:
    cargo run --release --locked -- demo {{ARGS}}

# Formatting and lints, as CI checks them
lint:
    cargo fmt --check
    cargo clippy --locked --all-targets -- -D warnings

# Exactly what CI runs (.ci/run)
ci:
    bash .ci/run
