// User-supplied patterns (task `pattern` arguments, `result_pattern`): any text compiles or is refused
// with a reason, and a compiled one matches any subject in linear time without recursion.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "corral/tasks/pattern.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view all(reinterpret_cast<const char*>(data), size);
    const auto split = all.find('\0');
    const auto text = all.substr(0, split);
    const auto subject = split == std::string_view::npos ? all : all.substr(split + 1);
    auto p = corral::tasks::pattern::compile(text);
    if (!p) {
        return 0;
    }
    (void)(*p)->full_match(subject);
    (void)(*p)->search(subject);
    return 0;
}
