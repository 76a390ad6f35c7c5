#include "sinks/labeling/label_schema.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/schema.h"

namespace tracefeed::labeling {
namespace {

using ::testing::HasSubstr;

Result<config::LabelSchema> from(const std::string& json) {
  auto v = parse_json(json);
  if (!v.is_ok()) return v.status();
  return label_schema_from_json(*v);
}

std::string error_of(const std::string& json) {
  auto s = from(json);
  EXPECT_FALSE(s.is_ok()) << json;
  EXPECT_EQ(s.status().code(), ErrorCode::invalid_argument);
  return s.status().message();
}

std::string with_input(const std::string& input) {
  return R"({"name":"q","type":"feedback","title":"Q?","input":)" + input + "}";
}

config::LabelSchema schema_of(const std::string& input,
                              config::LabelSchemaType type = config::LabelSchemaType::feedback) {
  auto s = from(with_input(input));
  EXPECT_TRUE(s.is_ok()) << s.status().to_string();
  s->type = type;
  return s.is_ok() ? *s : config::LabelSchema{};
}

Result<JsonText> answer(const config::LabelSchema& schema, const std::string& value) {
  auto v = parse_json(value);
  EXPECT_TRUE(v.is_ok()) << value;
  return validate_label_value(schema, *v, "labels.q");
}

// ---- schemas -------------------------------------------------------------------------------

TEST(LabelSchemaJson, QuickstartSchemasRoundTrip) {
  auto accuracy = from(
      R"({"name":"response_accuracy","type":"feedback","title":"Is the response factually accurate?",
    "input":{"categorical":{"options":["Accurate","Partially Accurate","Inaccurate"]}},"overwrite":true})");
  ASSERT_TRUE(accuracy.is_ok()) << accuracy.status().to_string();
  EXPECT_EQ(accuracy->name, "response_accuracy");
  EXPECT_EQ(std::get<config::CategoricalInput>(accuracy->input).options.size(), 3u);

  auto expected = from(
      R"({"name":"expected_response","type":"expectation","title":"What would be the ideal response?",
    "input":{"text":{}}})");
  ASSERT_TRUE(expected.is_ok()) << expected.status().to_string();
  EXPECT_EQ(expected->type, config::LabelSchemaType::expectation);
  EXPECT_FALSE(std::get<config::TextInput>(expected->input).max_length.has_value());

  for (const auto* s : {&*accuracy, &*expected}) {
    std::string json;
    JsonWriter w(json);
    write_label_schema_json(w, *s, "api");
    auto again = from(json);  // what GET returns can be POSTed again
    ASSERT_TRUE(again.is_ok()) << json << "\n" << again.status().to_string();
    EXPECT_EQ(*again, *s);
  }
}

TEST(LabelSchemaJson, EveryInputTypeParses) {
  EXPECT_TRUE(std::holds_alternative<config::CategoricalListInput>(
      schema_of(R"({"categorical_list":{"options":["a","b"]}})").input));
  auto text = schema_of(R"({"text":{"max_length":10}})");
  EXPECT_EQ(std::get<config::TextInput>(text.input).max_length, 10);
  auto list = schema_of(R"({"text_list":{"max_length_each":5,"max_count":3}})");
  EXPECT_EQ(std::get<config::TextListInput>(list.input).max_count, 3);
  auto num = schema_of(R"({"numeric":{"min_value":1,"max_value":5}})");
  EXPECT_EQ(std::get<config::NumericInput>(num.input).max_value, 5.0);
  auto pf = schema_of(R"({"pass_fail":{}})");
  EXPECT_EQ(std::get<config::PassFailInput>(pf.input).positive_label, "Pass");
  EXPECT_EQ(std::get<config::PassFailInput>(pf.input).negative_label, "Fail");
}

TEST(LabelSchemaJson, RequiredFieldsAndNames) {
  EXPECT_THAT(error_of(R"({"type":"feedback","title":"t","input":{"text":{}}})"),
              HasSubstr("name: required"));
  EXPECT_THAT(error_of(R"({"name":"a.b","type":"feedback","title":"t","input":{"text":{}}})"),
              HasSubstr("name: must not contain '.'"));
  EXPECT_THAT(error_of(R"({"name":"a/b","type":"feedback","title":"t","input":{"text":{}}})"),
              HasSubstr("name: must not contain '/'"));
  EXPECT_THAT(error_of(R"({"name":"q","type":"opinion","title":"t","input":{"text":{}}})"),
              HasSubstr("type: expected"));
  EXPECT_THAT(error_of(R"({"name":"q","type":"feedback","title":"","input":{"text":{}}})"),
              HasSubstr("title: must not be empty"));
  EXPECT_THAT(error_of(R"({"name":"q","type":"feedback","title":"t"})"),
              HasSubstr("input: required"));
  EXPECT_THAT(
      error_of(R"({"name":"q","type":"feedback","title":"t","input":{"text":{}},"colour":"red"})"),
      HasSubstr("colour: unknown key"));
  EXPECT_THAT(
      error_of(
          R"({"name":"q","type":"feedback","title":"t","enable_comment":"yes","input":{"text":{}}})"),
      HasSubstr("enable_comment: expected true or false"));
}

TEST(LabelSchemaJson, ExactlyOneInputKind) {
  EXPECT_THAT(error_of(with_input(R"({})")), HasSubstr("input: expected exactly one"));
  EXPECT_THAT(error_of(with_input(R"({"text":{},"numeric":{}})")),
              HasSubstr("input: expected exactly one"));
  EXPECT_THAT(error_of(with_input(R"({"slider":{}})")), HasSubstr("input.slider: unknown key"));
  EXPECT_THAT(error_of(with_input(R"({"text":{"max_lenght":3}})")),
              HasSubstr("input.text.max_lenght: unknown key"));
}

TEST(LabelSchemaJson, CategoricalOptionsOneToHundredUniqueNonEmpty) {
  EXPECT_THAT(error_of(with_input(R"({"categorical":{}})")),
              HasSubstr("input.categorical.options: required"));
  EXPECT_THAT(error_of(with_input(R"({"categorical":{"options":[]}})")),
              HasSubstr("expected 1 to 100 options, got 0"));
  std::string many = "[";
  for (int i = 0; i < 101; ++i) many += (i ? ",\"o" : "\"o") + std::to_string(i) + "\"";
  many += "]";
  EXPECT_THAT(error_of(with_input(R"({"categorical":{"options":)" + many + "}}")),
              HasSubstr("got 101"));
  EXPECT_THAT(error_of(with_input(R"({"categorical_list":{"options":["a","b","a"]}})")),
              HasSubstr("input.categorical_list.options[2]: duplicate option \"a\""));
  EXPECT_THAT(error_of(with_input(R"({"categorical":{"options":["a",""]}})")),
              HasSubstr("input.categorical.options[1]: must not be empty"));
  EXPECT_THAT(error_of(with_input(R"({"categorical":{"options":["a",3]}})")),
              HasSubstr("input.categorical.options[1]: expected a string"));
  // 100 is fine.
  std::string hundred = "[";
  for (int i = 0; i < 100; ++i) hundred += (i ? ",\"o" : "\"o") + std::to_string(i) + "\"";
  hundred += "]";
  EXPECT_TRUE(from(with_input(R"({"categorical":{"options":)" + hundred + "}}")).is_ok());
}

TEST(LabelSchemaJson, TextBoundsComeFromTheConfigTable) {
  const config::KeySpec* spec = config::find_key_spec("label_schemas[].input.text.max_length");
  ASSERT_NE(spec, nullptr);
  ASSERT_TRUE(spec->max.has_value());
  const auto max = static_cast<int64_t>(*spec->max);
  EXPECT_TRUE(from(with_input(R"({"text":{"max_length":)" + std::to_string(max) + "}}")).is_ok());
  EXPECT_THAT(error_of(with_input(R"({"text":{"max_length":)" + std::to_string(max + 1) + "}}")),
              HasSubstr("input.text.max_length: expected an integer from 1 to"));
  EXPECT_THAT(error_of(with_input(R"({"text":{"max_length":0}})")),
              HasSubstr("input.text.max_length"));
  EXPECT_THAT(error_of(with_input(R"({"text":{"max_length":2.5}})")),
              HasSubstr("input.text.max_length: expected an integer"));
  EXPECT_THAT(error_of(with_input(R"({"text_list":{"max_count":1001}})")),
              HasSubstr("input.text_list.max_count"));
  EXPECT_THAT(error_of(with_input(R"({"text_list":{"max_length_each":-1}})")),
              HasSubstr("input.text_list.max_length_each"));
}

TEST(LabelSchemaJson, NumericMinBelowMax) {
  EXPECT_THAT(error_of(with_input(R"({"numeric":{"min_value":5,"max_value":5}})")),
              HasSubstr("input.numeric.max_value: must be greater than min_value (5)"));
  EXPECT_THAT(error_of(with_input(R"({"numeric":{"min_value":"1"}})")),
              HasSubstr("input.numeric.min_value: expected a number"));
  EXPECT_TRUE(from(with_input(R"({"numeric":{"min_value":-1.5}})")).is_ok());
}

TEST(LabelSchemaJson, PassFailLabelsDiffer) {
  EXPECT_THAT(
      error_of(with_input(R"({"pass_fail":{"positive_label":"Yes","negative_label":"Yes"}})")),
      HasSubstr("input.pass_fail.negative_label: must differ from positive_label (\"Yes\")"));
  EXPECT_THAT(error_of(with_input(R"({"pass_fail":{"positive_label":""}})")),
              HasSubstr("positive_label: must not be empty"));
}

TEST(LabelSchemaValidate, ConfigStructsAreCheckedToo) {
  config::LabelSchema s;
  s.name = "ok";
  s.title = "t";
  s.input = config::NumericInput{3.0, 1.0};
  EXPECT_THAT(validate_label_schema(s).message(), HasSubstr("input.numeric.max_value"));
  s.input = config::CategoricalInput{{"x", "x"}};
  EXPECT_THAT(validate_label_schema(s).message(), HasSubstr("duplicate option"));
  s.input = config::TextInput{};
  EXPECT_TRUE(validate_label_schema(s).is_ok());
}

// ---- answers ---------------------------------------------------------------------------------

TEST(LabelValue, Categorical) {
  auto s = schema_of(R"({"categorical":{"options":["Accurate","Inaccurate"]}})");
  EXPECT_EQ(*answer(s, R"("Accurate")"), R"("Accurate")");
  auto wrong = answer(s, R"("Great")");
  EXPECT_EQ(wrong.status().code(), ErrorCode::invalid_argument);
  EXPECT_THAT(wrong.status().message(),
              HasSubstr("labels.q: \"Great\" is not one of [\"Accurate\", \"Inaccurate\"]"));
  EXPECT_THAT(answer(s, "1").status().message(), HasSubstr("labels.q: expected one of"));
}

TEST(LabelValue, CategoricalList) {
  auto s = schema_of(R"({"categorical_list":{"options":["a","b","c"]}})");
  EXPECT_EQ(*answer(s, R"(["c","a"])"), R"(["c","a"])");
  EXPECT_EQ(*answer(s, "[]"), "[]");
  EXPECT_THAT(answer(s, R"(["a","z"])").status().message(),
              HasSubstr("labels.q[1]: \"z\" is not one of"));
  EXPECT_THAT(answer(s, R"(["a","a"])").status().message(),
              HasSubstr("labels.q[1]: duplicate option"));
  EXPECT_THAT(answer(s, R"("a")").status().message(), HasSubstr("expected an array"));
}

TEST(LabelValue, TextCountsCharactersNotBytes) {
  auto s = schema_of(R"({"text":{"max_length":3}})");
  EXPECT_EQ(*answer(s, R"("héé")"), R"("héé")");  // 3 characters, 5 bytes
  EXPECT_THAT(answer(s, R"("abcd")").status().message(),
              HasSubstr("labels.q: longer than 3 characters (4)"));
  EXPECT_THAT(answer(s, "true").status().message(), HasSubstr("expected a string"));
  auto unbounded = schema_of(R"({"text":{}})");
  EXPECT_TRUE(answer(unbounded, "\"" + std::string(5000, 'x') + "\"").is_ok());
}

TEST(LabelValue, TextList) {
  auto s = schema_of(R"({"text_list":{"max_length_each":2,"max_count":2}})");
  EXPECT_EQ(*answer(s, R"(["ab","c"])"), R"(["ab","c"])");
  EXPECT_THAT(answer(s, R"(["a","b","c"])").status().message(),
              HasSubstr("labels.q: more than 2 items (3)"));
  EXPECT_THAT(answer(s, R"(["abc"])").status().message(),
              HasSubstr("labels.q[0]: longer than 2 characters"));
  EXPECT_THAT(answer(s, R"([1])").status().message(), HasSubstr("labels.q[0]: expected a string"));
}

TEST(LabelValue, NumericRangeIsInclusive) {
  auto s = schema_of(R"({"numeric":{"min_value":1,"max_value":5}})");
  EXPECT_EQ(*answer(s, "1"), "1");
  EXPECT_EQ(*answer(s, "4.5"), "4.5");
  EXPECT_EQ(*answer(s, "5"), "5");
  EXPECT_THAT(answer(s, "5.5").status().message(),
              HasSubstr("labels.q: 5.5 is out of range [1, 5]"));
  EXPECT_THAT(answer(s, "0").status().message(), HasSubstr("out of range"));
  EXPECT_THAT(answer(s, R"("3")").status().message(), HasSubstr("expected a number"));
  auto open = schema_of(R"({"numeric":{}})");
  EXPECT_TRUE(answer(open, "-1e9").is_ok());
}

TEST(LabelValue, PassFailTakesBooleansOrItsLabels) {
  auto s = schema_of(R"({"pass_fail":{"positive_label":"Safe","negative_label":"Unsafe"}})");
  EXPECT_EQ(*answer(s, "true"), "true");
  EXPECT_EQ(*answer(s, R"("Unsafe")"), "false");
  EXPECT_EQ(*answer(s, R"("Safe")"), "true");
  EXPECT_THAT(answer(s, R"("Pass")").status().message(),
              HasSubstr("expected true, false, \"Safe\" or \"Unsafe\""));
  EXPECT_THAT(answer(s, "null").status().message(), HasSubstr("null"));
}

TEST(LabelValue, AgreementOnlyForCategoriesAndNumbers) {
  EXPECT_TRUE(supports_agreement(schema_of(R"({"categorical":{"options":["a"]}})")));
  EXPECT_TRUE(supports_agreement(schema_of(R"({"pass_fail":{}})")));
  EXPECT_TRUE(supports_agreement(schema_of(R"({"numeric":{}})")));
  EXPECT_FALSE(supports_agreement(schema_of(R"({"text":{}})")));
  EXPECT_FALSE(supports_agreement(schema_of(R"({"text_list":{}})")));
}

}  // namespace
}  // namespace tracefeed::labeling
