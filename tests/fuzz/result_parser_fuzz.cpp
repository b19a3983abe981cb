// What a task's output can do to its result parsers (text, JSON, RE2 pattern, column table) and to the
// line and ANSI views every watcher and acons flush uses. The first byte picks the parser.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "corral/output/ansi.hpp"
#include "corral/output/table.hpp"
#include "corral/tasks/result_parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    using namespace corral::tasks;
    const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    static const result_parser regex{.kind = result_kind::regex,
                                     .pattern = R"(((.|\n)*)end (\d+) (\w+)?)",
                                     .compiled = pattern::compile(R"(((.|\n)*)end (\d+) (\w+)?)").value(),
                                     .fields = {"all", "last", "n"}};
    switch (data[0] % 5) {
        case 0:
            (void)parse_result({.kind = result_kind::text}, text);
            break;
        case 1:
            (void)parse_result({.kind = result_kind::json}, text);
            break;
        case 2:
            (void)parse_result(regex, text);
            break;
        case 3:
            (void)parse_result({.kind = result_kind::table}, text);
            (void)corral::output::parse_table(text);
            break;
        default: {
            const auto stripped = corral::output::strip_ansi(text);
            if (stripped.size() > text.size()) {
                __builtin_trap();  // stripping never adds bytes
            }
        }
    }
    return 0;
}
