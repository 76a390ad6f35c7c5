// tracefeed — one binary, every role. A thin main: parse the command line, load the config,
// hand it to the Runtime, wait for SIGINT/SIGTERM.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "apps/runtime.h"
#include "config/config.h"
#include "producers/emit/emit.h"
#include "producers/emit/loadgen.h"
#include "processors/evaluate/cli.h"
#include "sinks/eval/dataset_export.h"

#ifndef TRACEFEED_VERSION
#define TRACEFEED_VERSION "0.0.0"
#endif

namespace {

using tracefeed::config::ParsedConfig;

// Prints every config error as file:line:col: path: message. Returns false when there were any.
bool report(const ParsedConfig& parsed) {
  for (const auto& e : parsed.errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
  if (!parsed.ok()) {
    std::fprintf(stderr, "%zu error%s in %s\n", parsed.errors.size(), parsed.errors.size() == 1 ? "" : "s",
                 parsed.config.source.c_str());
  }
  return parsed.ok();
}

// Config errors plus the rule filters' (which the config module cannot parse).
ParsedConfig load_checked(const std::string& path) {
  ParsedConfig parsed = tracefeed::config::parse_config_file(path);
  if (parsed.ok()) parsed.errors = tracefeed::apps::compile_config_rules(parsed.config, nullptr);
  if (parsed.ok()) parsed.errors = tracefeed::apps::check_config_evaluation(parsed.config);
  return parsed;
}

// Blocks SIGINT and SIGTERM in this and every later thread, so that only sigwait sees them.
sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

// Starts `roles` and waits for SIGINT/SIGTERM. `listen` (when set) overrides http.listen, so a
// gateway and a processor started from one config file can share a host.
int run(const std::string& config_path, tracefeed::apps::Roles roles, const std::string& listen) {
  const sigset_t stop_signals = block_stop_signals();
  ParsedConfig parsed = load_checked(config_path);
  if (!report(parsed)) return 1;
  if (!listen.empty()) parsed.config.http.listen = listen;

  auto& clock = tracefeed::SystemClock::instance();
  auto runtime = tracefeed::apps::Runtime::start(parsed.config, clock, roles);
  if (!runtime.is_ok()) {
    spdlog::critical("tracefeed could not start: {}", runtime.status().to_string());
    return 1;
  }
  std::printf("tracefeed (%s) is ready at %s (Kafka %s%s). Ctrl-C stops it.\n", roles.to_string().c_str(),
              (*runtime)->http_base_url().c_str(), (*runtime)->kafka_bootstrap().c_str(),
              (*runtime)->embedded() ? ", embedded" : "");
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stop_signals, &sig);
  spdlog::info("received {}, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
  (*runtime)->stop();
  spdlog::info("stopped cleanly");
  return 0;
}

int validate_config(const std::string& path) {
  ParsedConfig parsed = load_checked(path);
  if (!report(parsed)) return 1;
  const auto& c = parsed.config;
  std::printf("%s: OK (%zu label schemas, %zu labeling sessions, %zu rules; Kafka %s)\n", path.c_str(),
              c.label_schemas.size(), c.labeling_sessions.size(), c.rules.size(), c.kafka.brokers.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_default_logger(spdlog::stderr_color_mt("tracefeed"));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");

  CLI::App app{"tracefeed — stream human feedback on GenAI traces into review and evaluation", "tracefeed"};
  app.require_subcommand(1);
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")->capture_default_str();

  std::string config_path = "config/tracefeed.yaml";
  std::string listen;
  auto add_role_command = [&](const char* name, const char* description) {
    auto* cmd = app.add_subcommand(name, description);
    cmd->add_option("-c,--config", config_path, "Configuration file")->capture_default_str();
    cmd->add_option("--listen", listen, "HTTP listen address, overriding http.listen (host:port)");
    return cmd;
  };
  auto* run_cmd = add_role_command("run", "Run every role in one process (embedded Kafka by default)");
  auto* gateway_cmd =
      add_role_command("gateway", "Run the ingestion gateway only: native, MLflow-compatible and OTLP writes to Kafka");
  auto* process_cmd = add_role_command(
      "process", "Run the join + route processors only, with the read, search, rules and decisions APIs over their state");
  auto* labeling_cmd = add_role_command(
      "labeling", "Run the labeling sink only: label schemas, labeling sessions and the Review App API, fed by the review topic");

  std::string validate_path;
  auto* validate_cmd = app.add_subcommand("validate-config", "Check a configuration file without starting anything");
  validate_cmd->add_option("file", validate_path, "Configuration file")->required();

  auto* version_cmd = app.add_subcommand("version", "Print the version");

  tracefeed::emit::EmitOptions emit_opts;
  bool emit_no_progress = false, emit_no_validate = false;
  auto* emit_cmd = app.add_subcommand("emit", "Send NDJSON event envelopes (files or - for stdin) to the gateway");
  emit_cmd->add_option("files", emit_opts.files, "NDJSON files of envelopes; - reads stdin")->required();
  emit_cmd->add_option("--url", emit_opts.url, "Gateway base URL")->capture_default_str();
  emit_cmd->add_option("--batch-size", emit_opts.batch_size, "Envelopes per request")->capture_default_str();
  emit_cmd->add_flag("--no-validate", emit_no_validate, "Send lines without parsing them locally first");
  emit_cmd->add_flag("--no-progress", emit_no_progress, "Plain progress lines even on a TTY");

  tracefeed::emit::LoadgenOptions lg;
  double lg_duration_s = 10;
  auto* loadgen_cmd = app.add_subcommand("loadgen", "Generate realistic trace + feedback traffic");
  loadgen_cmd->add_option("--url", lg.url, "Gateway base URL (default target)")->capture_default_str();
  loadgen_cmd->add_option("--kafka", lg.kafka_brokers, "Send straight to these Kafka brokers instead");
  loadgen_cmd->add_option("--topic-prefix", lg.topic_prefix, "Kafka topic prefix")->capture_default_str();
  loadgen_cmd->add_option("--output", lg.output, "Write NDJSON to this file (- = stdout) instead of sending");
  loadgen_cmd->add_option("--rate", lg.rate, "Target events/s; 0 = as fast as possible")->capture_default_str();
  loadgen_cmd->add_option("--duration", lg_duration_s, "Seconds to run (ignored with --count)")->capture_default_str();
  loadgen_cmd->add_option("--count", lg.count, "Stop after this many events");
  loadgen_cmd->add_option("--batch-size", lg.http_batch_size, "Events per HTTP request")->capture_default_str();
  loadgen_cmd->add_option("--feedback-ratio", lg.traffic.feedback_ratio, "Share of traces with feedback")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  loadgen_cmd->add_option("--thumbs-down-ratio", lg.traffic.thumbs_down_ratio, "Share of feedback that is thumbs-down")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  loadgen_cmd->add_option("--feedback-first-ratio", lg.traffic.feedback_first_ratio, "Share of feedback sent before its trace")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  loadgen_cmd->add_option("--duplicate-ratio", lg.traffic.duplicate_ratio, "Share of events sent twice (same event_id)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  loadgen_cmd->add_option("--seed", lg.traffic.seed, "Seed for ids and choices")->capture_default_str();

  tracefeed::eval::DatasetExportOptions export_opts;
  int64_t export_version = -1;
  bool export_no_progress = false;
  auto* dataset_cmd = app.add_subcommand("dataset", "Evaluation datasets");
  dataset_cmd->require_subcommand(1);
  auto* export_cmd = dataset_cmd->add_subcommand("export", "Write one version of a dataset to a JSONL file");
  export_cmd->add_option("name", export_opts.name, "Dataset name")->required();
  export_cmd->add_option("--version", export_version, "Version (default: latest)")->check(CLI::NonNegativeNumber);
  export_cmd->add_option("-o,--output", export_opts.output, "Output file, - for stdout (default: NAME-vVERSION.jsonl)");
  export_cmd->add_option("--url", export_opts.url, "tracefeed base URL")->capture_default_str();
  export_cmd->add_flag("--no-progress", export_no_progress, "Plain progress lines even on a TTY");

  tracefeed::evaluate::EvaluateCliOptions eval_opts;
  int64_t eval_dataset_version = -1;
  uint64_t eval_max_records = 0;
  double eval_timeout_s = 0;
  bool eval_no_progress = false;
  std::string eval_filter;
  auto* evaluate_cmd = app.add_subcommand(
      "evaluate", "Score a labeling session, dataset or search against expert labels (MLflow's genai.evaluate)");
  auto* eval_sources = evaluate_cmd->add_option_group("source", "What to evaluate (exactly one)");
  eval_sources->add_option("--session", eval_opts.session, "Labeling session name or id");
  eval_sources->add_option("--dataset", eval_opts.dataset, "Evaluation dataset name");
  eval_sources->add_option("--filter", eval_filter, "Search filter over stored traces");
  eval_sources->require_option(1);
  evaluate_cmd->add_option("--dataset-version", eval_dataset_version, "Dataset version (default: latest)")
      ->check(CLI::NonNegativeNumber);
  evaluate_cmd->add_option("--scorer", eval_opts.scorers, "Scorer name or JSON spec; repeat for several")->required();
  evaluate_cmd->add_option("--guideline", eval_opts.guidelines, "Guideline for the guidelines scorer; repeatable");
  evaluate_cmd->add_option("--predict-url", eval_opts.predict_url, "Re-run the app: POST each record's inputs here");
  evaluate_cmd->add_option("--output", eval_opts.output, "Write every record's result to this JSONL file");
  evaluate_cmd->add_option("--url", eval_opts.url, "tracefeed base URL")->capture_default_str();
  evaluate_cmd->add_option("--token", eval_opts.token, "Bearer token (default: $TRACEFEED_TOKEN)");
  evaluate_cmd->add_option("--name", eval_opts.name, "A name for the run");
  evaluate_cmd->add_option("--evaluation-id", eval_opts.evaluation_id, "Client-chosen id (idempotent submit)");
  evaluate_cmd->add_option("--max-records", eval_max_records, "Score at most this many records");
  evaluate_cmd->add_option("--timeout", eval_timeout_s, "Stop waiting after this many seconds (0 = until done)");
  evaluate_cmd->add_flag("--no-progress", eval_no_progress, "Plain progress lines even on a TTY");

  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::from_str(log_level));

  if (*run_cmd) return run(config_path, tracefeed::apps::Roles::all(), listen);
  if (*gateway_cmd) return run(config_path, tracefeed::apps::Roles::gateway_only(), listen);
  if (*process_cmd) return run(config_path, tracefeed::apps::Roles::process_only(), listen);
  if (*labeling_cmd) return run(config_path, tracefeed::apps::Roles::labeling_only(), listen);
  if (*validate_cmd) return validate_config(validate_path);
  if (*emit_cmd) {
    if (emit_no_progress) emit_opts.progress = false;
    emit_opts.validate = !emit_no_validate;
    return tracefeed::emit::run_emit(emit_opts);
  }
  if (*loadgen_cmd) {
    lg.duration = std::chrono::milliseconds(static_cast<int64_t>(lg_duration_s * 1000));
    return tracefeed::emit::run_loadgen(lg);
  }
  if (*export_cmd) {
    if (export_version >= 0) export_opts.version = export_version;
    if (export_no_progress) export_opts.progress = false;
    return tracefeed::eval::run_dataset_export(export_opts);
  }
  if (*evaluate_cmd) {
    if (eval_dataset_version >= 0) eval_opts.dataset_version = eval_dataset_version;
    if (eval_max_records > 0) eval_opts.max_records = eval_max_records;
    if (!eval_filter.empty()) eval_opts.filter = eval_filter;
    if (eval_no_progress) eval_opts.progress = false;
    eval_opts.timeout = std::chrono::milliseconds(static_cast<int64_t>(eval_timeout_s * 1000));
    return tracefeed::evaluate::run_evaluate_cli(eval_opts, stdout, stderr);
  }
  if (*version_cmd) {
    std::printf("tracefeed %s\n", TRACEFEED_VERSION);
    return 0;
  }
  return 2;
}
