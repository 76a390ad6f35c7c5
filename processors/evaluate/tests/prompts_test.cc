#include "processors/evaluate/prompts.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace tracefeed::evaluate {
namespace {

class TempDir {
 public:
  TempDir() {
    _path = std::filesystem::temp_directory_path() /
            ("tracefeed-prompts-" + std::to_string(::getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(_path);
    std::filesystem::create_directories(_path);
  }
  ~TempDir() { std::filesystem::remove_all(_path); }
  void write(const std::string& name, const std::string& text) const { std::ofstream(_path / name) << text; }
  std::string path() const { return _path.string(); }

 private:
  std::filesystem::path _path;
};

TEST(Prompts, EveryBuiltinPromptLoadsAndChecks) {
  auto lib = PromptLibrary::load();
  ASSERT_TRUE(lib.is_ok()) << lib.status().to_string();
  for (const char* name : {"correctness", "correctness_facts", "relevance_to_query", "retrieval_groundedness", "guidelines"}) {
    ASSERT_NE(lib->find(name), nullptr) << name;
    EXPECT_NE(lib->find(name)->find("\"result\""), std::string::npos) << name << " must ask for the verdict format";
  }
}

TEST(Prompts, RenderSubstitutesOncePerPlaceholder) {
  auto lib = PromptLibrary::load();
  ASSERT_TRUE(lib.is_ok());
  auto p = lib->render("correctness", {{"request", "What is MLflow?"},
                                       {"response", "An {{expected_response}} platform"},
                                       {"expected_response", "An open-source platform"}});
  ASSERT_TRUE(p.is_ok()) << p.status().to_string();
  EXPECT_NE(p->find("<question>What is MLflow?</question>"), std::string::npos) << *p;
  EXPECT_NE(p->find("<reference_answer>An open-source platform</reference_answer>"), std::string::npos);
  // A value that looks like a placeholder is inserted verbatim, not expanded.
  EXPECT_NE(p->find("<app_answer>An {{expected_response}} platform</app_answer>"), std::string::npos);
  EXPECT_EQ(p->find("{{request}}"), std::string::npos);
}

TEST(Prompts, RenderNeedsEveryValue) {
  auto lib = PromptLibrary::load();
  ASSERT_TRUE(lib.is_ok());
  auto p = lib->render("relevance_to_query", {{"request", "q"}});
  ASSERT_FALSE(p.is_ok());
  EXPECT_NE(p.status().message().find("{{response}}"), std::string::npos) << p.status().message();
  EXPECT_EQ(lib->render("nope", {}).status().code(), ErrorCode::not_found);
}

TEST(Prompts, ADirectoryReplacesBuiltins) {
  TempDir dir;
  dir.write("relevance_to_query.txt", "Q: {{request}}\nA: {{response}}\nAnswer with JSON.");
  auto lib = PromptLibrary::load(dir.path());
  ASSERT_TRUE(lib.is_ok()) << lib.status().to_string();
  auto p = lib->render("relevance_to_query", {{"request", "q"}, {"response", "a"}});
  ASSERT_TRUE(p.is_ok());
  EXPECT_EQ(*p, "Q: q\nA: a\nAnswer with JSON.");
  bool from_file = false;
  for (const auto& [name, origin] : lib->origins()) from_file |= name == "relevance_to_query" && origin != "builtin";
  EXPECT_TRUE(from_file);
}

TEST(Prompts, BadTemplatesFailAtLoadNamingTheFile) {
  {
    TempDir dir;
    dir.write("correctness.txt", "{{request}} {{response}} {{expected}}");
    auto lib = PromptLibrary::load(dir.path());
    ASSERT_FALSE(lib.is_ok());
    EXPECT_NE(lib.status().message().find("correctness.txt"), std::string::npos) << lib.status().message();
    EXPECT_NE(lib.status().message().find("unknown placeholder {{expected}}"), std::string::npos) << lib.status().message();
  }
  {
    TempDir dir;
    dir.write("guidelines.txt", "{{guidelines}} {{request}}");
    auto lib = PromptLibrary::load(dir.path());
    ASSERT_FALSE(lib.is_ok());
    EXPECT_NE(lib.status().message().find("{{response}} is missing"), std::string::npos) << lib.status().message();
  }
  EXPECT_FALSE(PromptLibrary::check_template("guidelines", "{{guidelines}} {{request}} {{response").is_ok());
}

}  // namespace
}  // namespace tracefeed::evaluate
