// e2e: the built `tracefeed` binary, as a user runs it.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <thread>

extern char** environ;

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// A child process with stdout and stderr captured through pipes.
class Child {
 public:
  explicit Child(std::vector<std::string> args) {
    int out[2], err[2];
    if (pipe(out) != 0 || pipe(err) != 0) throw std::runtime_error("pipe");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    posix_spawn_file_actions_addclose(&fa, err[0]);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&_pid, argv[0], &fa, nullptr, argv.data(), environ) != 0) throw std::runtime_error("spawn");
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    close(err[1]);
    _out = out[0];
    _err = err[0];
  }
  ~Child() {
    if (_pid > 0 && !_exited) {
      kill(_pid, SIGKILL);
      waitpid(_pid, nullptr, 0);
    }
    close(_out);
    close(_err);
  }

  // Reads output until `pattern` matches stdout, or the deadline passes.
  std::optional<std::smatch> wait_for_stdout(const std::regex& pattern, std::chrono::seconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      std::smatch m;
      if (std::regex_search(stdout_text, m, pattern)) return m;
      if (!pump(deadline)) break;
    }
    std::smatch m;
    if (std::regex_search(stdout_text, m, pattern)) return m;
    return std::nullopt;
  }

  // Waits for exit; returns the exit status or nullopt on timeout.
  std::optional<int> wait_exit(std::chrono::seconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      int status = 0;
      pid_t r = waitpid(_pid, &status, WNOHANG);
      if (r == _pid) {
        _exited = true;
        while (pump(Clock::now() + std::chrono::milliseconds(100))) {
        }
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      pump(std::min(deadline, Clock::now() + std::chrono::milliseconds(50)));
    }
    return std::nullopt;
  }

  void signal(int sig) { kill(_pid, sig); }

  std::string stdout_text, stderr_text;

 private:
  // Reads whatever is available until the deadline; false once both pipes are closed.
  bool pump(Clock::time_point deadline) {
    pollfd fds[2] = {{_out, POLLIN, 0}, {_err, POLLIN, 0}};
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (poll(fds, 2, static_cast<int>(std::max<int64_t>(ms, 0))) <= 0) return true;
    bool open = false;
    char buf[4096];
    for (int i = 0; i < 2; ++i) {
      if (fds[i].revents & (POLLIN | POLLHUP)) {
        ssize_t n = read(fds[i].fd, buf, sizeof buf);
        if (n > 0) {
          (i == 0 ? stdout_text : stderr_text).append(buf, static_cast<size_t>(n));
          open = true;
        }
      } else {
        open = true;
      }
    }
    return open;
  }

  pid_t _pid = -1;
  int _out = -1, _err = -1;
  bool _exited = false;
};

class BinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    _dir = fs::temp_directory_path() / ("tracefeed-e2e-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(_dir);
    fs::create_directories(_dir);
  }
  void TearDown() override { fs::remove_all(_dir); }

  fs::path write(const std::string& name, const std::string& text) {
    fs::path p = _dir / name;
    std::ofstream(p) << text;
    return p;
  }

  fs::path _dir;
};

TEST_F(BinaryTest, RunStartsReadyAndStopsCleanlyOnSigterm) {
  auto cfg = write("tracefeed.yaml", "kafka: {brokers: embedded, partitions: 2}\nstate: {dir: \"" +
                                         (_dir / "state").string() + "\"}\nhttp: {listen: \"127.0.0.1:0\"}\n");
  Child child({TRACEFEED_BINARY, "run", "--config", cfg.string()});
  auto m = child.wait_for_stdout(std::regex(R"(ready at (http://[0-9.]+:[0-9]+))"), std::chrono::seconds(30));
  ASSERT_TRUE(m) << "stdout: " << child.stdout_text << "\nstderr: " << child.stderr_text;
  const std::string url = (*m)[1];
  httplib::Client client(url);
  std::optional<int> status;
  for (auto deadline = Clock::now() + std::chrono::seconds(20); Clock::now() < deadline;) {
    auto r = client.Get("/readyz");
    if (r && r->status == 200) {
      status = 200;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // poll interval
  }
  EXPECT_EQ(status, 200);
  EXPECT_NE(child.stderr_text.find("embedded broker"), std::string::npos) << child.stderr_text;
  child.signal(SIGTERM);
  auto code = child.wait_exit(std::chrono::seconds(30));
  ASSERT_TRUE(code) << "did not exit after SIGTERM";
  EXPECT_EQ(*code, 0) << child.stderr_text;
  EXPECT_NE(child.stderr_text.find("stopped cleanly"), std::string::npos) << child.stderr_text;
}

// The roles of `tracefeed run`, as separate processes: a gateway (here also hosting the embedded
// broker) and a processor reaching that broker over TCP. Feedback sent to the gateway becomes
// readable, joined to its trace, from the processor.
TEST_F(BinaryTest, GatewayAndProcessRunAsSeparateProcesses) {
  auto gw_cfg = write("gateway.yaml", "kafka: {brokers: embedded, partitions: 2}\nhttp: {listen: \"127.0.0.1:0\"}\n");
  Child gateway({TRACEFEED_BINARY, "gateway", "--config", gw_cfg.string()});
  auto gm = gateway.wait_for_stdout(std::regex(R"(\(gateway\) is ready at (http://[0-9.]+:[0-9]+) \(Kafka ([0-9.:]+), embedded)"),
                                    std::chrono::seconds(30));
  ASSERT_TRUE(gm) << "stdout: " << gateway.stdout_text << "\nstderr: " << gateway.stderr_text;
  const std::string gateway_url = (*gm)[1], bootstrap = (*gm)[2];

  auto proc_cfg = write("process.yaml", "kafka: {brokers: \"" + bootstrap + "\", partitions: 2}\nstate: {dir: \"" +
                                            (_dir / "state").string() + "\"}\nhttp: {listen: \"127.0.0.1:8080\"}\n");
  // --listen overrides the file's address, so both roles can share one config on one host.
  Child process({TRACEFEED_BINARY, "process", "--config", proc_cfg.string(), "--listen", "127.0.0.1:0"});
  auto pm = process.wait_for_stdout(std::regex(R"(\(process\) is ready at (http://[0-9.]+:[0-9]+))"), std::chrono::seconds(30));
  ASSERT_TRUE(pm) << "stdout: " << process.stdout_text << "\nstderr: " << process.stderr_text;
  const std::string process_url = (*pm)[1];
  EXPECT_NE(process_url, "http://127.0.0.1:8080");

  const std::string trace_id = "tr-5a1d000000000000000000000000beef";
  const std::string body =
      R"([{"type":"trace","trace":{"trace_info":{"trace_id":")" + trace_id +
      R"(","request_time":"2025-06-01T12:00:00Z","state":"OK","request_preview":"What is MLflow?"}}},
          {"type":"assessment","assessment":{"assessment_name":"user_feedback","trace_id":")" + trace_id +
      R"(","source":{"source_type":"HUMAN","source_id":"enduser_123"},"feedback":{"value":false}}}])";
  httplib::Client gw(gateway_url), pr(process_url);
  auto posted = gw.Post("/api/v1/events", body, "application/json");
  ASSERT_TRUE(posted);
  EXPECT_EQ(posted->status, 202) << posted->body;

  // Each process serves only its role's routes.
  auto no_reads = gw.Get("/api/3.0/mlflow/traces/" + trace_id);
  ASSERT_TRUE(no_reads);
  EXPECT_EQ(no_reads->status, 404);
  auto no_writes = pr.Post("/api/v1/events", body, "application/json");
  ASSERT_TRUE(no_writes);
  EXPECT_EQ(no_writes->status, 404);

  std::string joined;
  for (auto deadline = Clock::now() + std::chrono::seconds(30); Clock::now() < deadline;) {
    auto r = pr.Get("/api/3.0/mlflow/traces/" + trace_id);
    if (r && r->status == 200 && r->body.find("user_feedback") != std::string::npos) {
      joined = r->body;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // poll interval
  }
  EXPECT_NE(joined.find("enduser_123"), std::string::npos) << "process stderr: " << process.stderr_text;

  process.signal(SIGTERM);
  gateway.signal(SIGTERM);
  EXPECT_EQ(process.wait_exit(std::chrono::seconds(30)), 0) << process.stderr_text;
  EXPECT_EQ(gateway.wait_exit(std::chrono::seconds(30)), 0) << gateway.stderr_text;
}

TEST_F(BinaryTest, ValidateConfigAcceptsTheDocumentedDefault) {
  Child child({TRACEFEED_BINARY, "validate-config", std::string(TRACEFEED_SOURCE_DIR) + "/config/tracefeed.yaml"});
  auto code = child.wait_exit(std::chrono::seconds(30));
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0) << child.stderr_text;
  EXPECT_NE(child.stdout_text.find(": OK"), std::string::npos) << child.stdout_text;
}

TEST_F(BinaryTest, ValidateConfigNamesFileLineAndColumn) {
  auto cfg = write("bad.yaml", "kafka:\n  brokers: embedded\n  partitionz: 3\nrules:\n  - name: r\n    filter: \"x = 1\"\n    sample_rate: 1.5\n");
  Child child({TRACEFEED_BINARY, "validate-config", cfg.string()});
  auto code = child.wait_exit(std::chrono::seconds(30));
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 1);
  EXPECT_NE(child.stderr_text.find(cfg.string() + ":3:3:"), std::string::npos) << child.stderr_text;
  EXPECT_NE(child.stderr_text.find(cfg.string() + ":7:18:"), std::string::npos) << child.stderr_text;
}

TEST_F(BinaryTest, ValidateConfigPointsIntoABadRuleFilter) {
  auto cfg = write("bad.yaml", "rules:\n  - name: bad\n    filter: \"feedback.user_feedback == false\"\n    actions: [{eval: ds}]\n");
  Child child({TRACEFEED_BINARY, "validate-config", cfg.string()});
  auto code = child.wait_exit(std::chrono::seconds(30));
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 1);
  // Line 3, column 37 is where "==" stands in the file.
  EXPECT_NE(child.stderr_text.find(cfg.string() + ":3:37: rules[0].filter: column 24: expected an operator"),
            std::string::npos)
      << child.stderr_text;
}

TEST_F(BinaryTest, RunWithABadConfigExitsWithTheErrors) {
  auto cfg = write("bad.yaml", "http: {listen: nowhere}\n");
  Child child({TRACEFEED_BINARY, "run", "--config", cfg.string()});
  auto code = child.wait_exit(std::chrono::seconds(30));
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 1);
  EXPECT_NE(child.stderr_text.find(cfg.string() + ":1:16:"), std::string::npos) << child.stderr_text;
}

TEST_F(BinaryTest, VersionAndHelp) {
  Child version({TRACEFEED_BINARY, "version"});
  EXPECT_EQ(version.wait_exit(std::chrono::seconds(10)), 0);
  EXPECT_NE(version.stdout_text.find("tracefeed "), std::string::npos);
  Child help({TRACEFEED_BINARY, "run", "--help"});
  EXPECT_EQ(help.wait_exit(std::chrono::seconds(10)), 0);
  EXPECT_NE(help.stdout_text.find("--config"), std::string::npos) << help.stdout_text;
}

}  // namespace
