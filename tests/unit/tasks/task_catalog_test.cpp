#include "corral/tasks/task_catalog.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "corral/tasks/result_parser.hpp"

namespace corral::tasks {
namespace {

namespace json = boost::json;
using words = std::vector<std::string>;

task_def date_task() {
    task_def t;
    t.name = "date";
    t.command = {"date", "{utc}", "{format}"};
    arg_def format{.name = "format", .prefix = "+", .default_value = json::value("%x")};
    arg_def utc{.name = "utc", .type = arg_type::boolean, .style = arg_style::flag_switch, .flag = "-u"};
    t.args = {format, utc};
    return t;
}

json::object valid(const task_def& t, const json::object& args) {
    auto r = task_catalog::validate(t, args);
    EXPECT_TRUE(r) << r.error().what();
    return r ? *r : json::object{};
}

TEST(TaskCatalog, ExpandsATemplateWithSwitchesAndPrefixes) {
    const auto t = date_task();
    EXPECT_EQ(task_catalog::expand(t, valid(t, {{"utc", true}, {"format", "%Y"}})),
              (words{"date", "-u", "+%Y"}));
    EXPECT_EQ(task_catalog::expand(t, valid(t, {{"utc", false}})), (words{"date", "+%x"}));
}

TEST(TaskCatalog, AppendsArgumentsInEveryStyleAndKeepsFalsyValues) {
    task_def t{.name = "x", .command = {"prog"}};
    t.args = {{.name = "n", .type = arg_type::integer},
              {.name = "s", .style = arg_style::option, .flag = "--name"},
              {.name = "e", .style = arg_style::option_equals, .flag = "--level"},
              {.name = "empty"}};
    const auto args = valid(t, {{"n", 0}, {"s", "jan"}, {"e", "0"}, {"empty", ""}});
    EXPECT_EQ(task_catalog::expand(t, args), (words{"prog", "0", "--name", "jan", "--level=0", ""}));
}

TEST(TaskCatalog, ReportsEveryBadArgumentByName) {
    task_def t{.name = "x", .command = {"prog"}};
    t.args = {{.name = "n", .type = arg_type::integer, .required = true, .min = 1, .max = 10},
              {.name = "mode", .type = arg_type::choice, .choices = {"fast", "slow"}},
              {.name = "id", .type = arg_type::pattern, .pattern = "[a-z]+"},
              {.name = "file", .type = arg_type::path, .within = "/srv/data"},
              {.name = "word"}};
    t.args[2].compiled = pattern::compile("[a-z]+").value();
    auto r = task_catalog::validate(t,
                                    {{"n", 11},
                                     {"mode", "warp"},
                                     {"id", "A1"},
                                     {"file", "../etc/passwd"},
                                     {"word", "-rf"},
                                     {"bogus", 1}});
    ASSERT_FALSE(r);
    const auto text = r.error().what();
    for (const auto* expected : {"bogus: unknown argument",
                                 "n: 11 is out of range",
                                 "mode: must be one of fast, slow",
                                 "id: 'A1' does not match",
                                 "file: must be inside /srv/data",
                                 "word: '-rf' must not begin with '-'"}) {
        EXPECT_NE(text.find(expected), std::string::npos) << expected << " in: " << text;
    }
    EXPECT_NE(task_catalog::validate(t, {}).error().what().find("n: required"), std::string::npos);
    EXPECT_EQ(valid(t, {{"n", "7"}}).at("n"), 7)
        << "numbers may come as strings (ASEXOR's clients send them)";
}

TEST(TaskCatalog, NumbersOutsideWhatAProgramTakesAreRefused) {
    // Found by task_args_fuzz: JSON's 1e400 is infinity, and casting it to an integer was undefined.
    task_def t{.name = "x", .command = {"prog"}};
    t.args = {{.name = "n", .type = arg_type::integer}, {.name = "f", .type = arg_type::number}};
    for (const auto& huge : {json::parse("1e400"), json::parse("-1e400"), json::value(1e19), json::value(0.5)}) {
        auto r = task_catalog::validate(t, {{"n", huge}});
        ASSERT_FALSE(r) << json::serialize(huge);
        EXPECT_NE(r.error().what().find("must be a whole number"), std::string::npos) << r.error().what();
    }
    EXPECT_EQ(task_catalog::expand(t, valid(t, {{"n", 1e18}})), (words{"prog", "1000000000000000000"}));
    for (const auto& bad : {json::parse("1e400"), json::value("nan"), json::value("inf")}) {
        auto r = task_catalog::validate(t, {{"f", bad}});
        ASSERT_FALSE(r) << json::serialize(bad);
        EXPECT_NE(r.error().what().find("must be a finite number"), std::string::npos) << r.error().what();
    }
}

TEST(TaskCatalog, BindsPositionalValuesInDeclaredOrder) {
    const auto t = date_task();
    auto bound = task_catalog::bind(t, json::array{"%H"}, {{"utc", true}});
    ASSERT_TRUE(bound);
    EXPECT_EQ(bound->at("format"), "%H");
    EXPECT_FALSE(task_catalog::bind(t, json::array{1, 2, 3}, {}));
}

TEST(TaskCatalog, CheckedWholeAtCreation) {
    task_def multi{.name = "m", .steps = {{"date", {}}, {"missing", {}}, {"date", {{"nope", 1}}}}};
    auto c = task_catalog::create({date_task(), date_task(), multi});
    ASSERT_FALSE(c);
    const auto text = c.error().what();
    EXPECT_NE(text.find("'date' is defined twice"), std::string::npos) << text;
    EXPECT_NE(text.find("step 2: 'missing' is not a single-step task"), std::string::npos) << text;
    EXPECT_NE(text.find("step 3: nope: unknown argument"), std::string::npos) << text;
}

TEST(ResultParser, TextJsonRegexAndTable) {
    EXPECT_EQ(*parse_result({.kind = result_kind::text}, "  hello\n"), json::value("hello"));
    EXPECT_EQ(*parse_result({.kind = result_kind::json}, R"({"a": [1]})"), json::parse(R"({"a": [1]})"));
    EXPECT_FALSE(parse_result({.kind = result_kind::json}, "{oops"));
    result_parser re{.kind = result_kind::regex,
                     .pattern = R"((\d+) ms)",
                     .compiled = pattern::compile(R"((\d+) ms)").value(),
                     .fields = {"ms"}};
    EXPECT_EQ(*parse_result(re, "took 42 ms\n"), (json::object{{"ms", "42"}}));
    EXPECT_FALSE(parse_result(re, "no timing"));
    auto table = parse_result({.kind = result_kind::table}, "NAME  SIZE\na     1\nb     22\n");
    ASSERT_TRUE(table);
    EXPECT_EQ(*table, json::parse(R"([{"name": "a", "size": "1"}, {"name": "b", "size": "22"}])"));
}

TEST(Pattern, APathologicalPatternOverAMegabyteNeitherRecursesNorStalls) {
    // std::regex recursed once per character here and overflowed the stack (and corrald with it).
    const std::string text(1 << 20, 'a');
    const std::string output = text + "\nend 7\n";
    result_parser re{.kind = result_kind::regex,
                     .pattern = R"(((.|\n)*)end (\d+))",
                     .compiled = pattern::compile(R"(((.|\n)*)end (\d+))").value(),
                     .fields = {"all", "last", "n"}};
    auto r = parse_result(re, output);
    ASSERT_TRUE(r) << r.error().what();
    EXPECT_EQ(r->at("n"), "7");
    EXPECT_EQ(r->at("all").as_string().size(), text.size() + 1);
    EXPECT_TRUE(pattern::compile("(a|aa)*b")->get()->full_match(std::string(100000, 'a') + "b"));
}

TEST(Pattern, BadOrOversizedPatternsAreRefusedWithAReason) {
    auto bad = pattern::compile("(unclosed");
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().what().find("missing )"), std::string::npos) << bad.error().what();
    auto backreference = pattern::compile(R"((a)\1)");
    EXPECT_FALSE(backreference) << "RE2 has no backreferences: refused, not misread";
    auto long_one = pattern::compile(std::string(pattern::max_length + 1, 'a'));
    ASSERT_FALSE(long_one);
    EXPECT_NE(long_one.error().what().find("at most 4096"), std::string::npos) << long_one.error().what();
    EXPECT_FALSE(pattern::compile("((((a{100}){100}){100}){100})")) << "beyond the memory bound";
    auto groups = pattern::compile("(x)?(y)");
    ASSERT_TRUE(groups);
    auto m = groups->get()->search("-y-");
    ASSERT_TRUE(m);
    ASSERT_EQ(m->size(), 2u);
    EXPECT_FALSE((*m)[0]) << "a group that took no part";
    EXPECT_EQ((*m)[1], "y");
}

}  // namespace
}  // namespace corral::tasks
