#include "corral/tasks/pattern.hpp"

#include <re2/re2.h>

#include <fmt/format.h>

namespace corral::tasks {

struct pattern::impl {
    std::string text;
    re2::RE2 re;
    impl(std::string_view t, const re2::RE2::Options& o) : text(t), re(text, o) {}
};

pattern::pattern(std::unique_ptr<impl> i) : impl_(std::move(i)) {}
pattern::~pattern() = default;

result_info<std::shared_ptr<const pattern>> pattern::compile(std::string_view text) {
    if (text.size() > max_length) {
        return error_info{
            errc::invalid_argument,
            fmt::format(
                "the pattern is {} characters long; at most {} are allowed", text.size(), max_length)};
    }
    re2::RE2::Options options;
    options.set_log_errors(false);  // the error is reported to whoever wrote the pattern, not logged
    options.set_max_mem(static_cast<std::int64_t>(max_memory));
    auto i = std::make_unique<impl>(text, options);
    if (!i->re.ok()) {
        return error_info{errc::invalid_argument,
                          fmt::format("not a valid regular expression (RE2 syntax): {}", i->re.error())};
    }
    return std::shared_ptr<const pattern>(new pattern(std::move(i)));
}

bool pattern::full_match(std::string_view text) const {
    return re2::RE2::FullMatch(re2::StringPiece(text.data(), text.size()), impl_->re);
}

std::optional<std::vector<std::optional<std::string>>> pattern::search(std::string_view text) const {
    const int groups = impl_->re.NumberOfCapturingGroups();
    std::vector<re2::StringPiece> found(static_cast<std::size_t>(groups) + 1);
    if (!impl_->re.Match(re2::StringPiece(text.data(), text.size()),
                         0,
                         text.size(),
                         re2::RE2::UNANCHORED,
                         found.data(),
                         groups + 1)) {
        return std::nullopt;
    }
    std::vector<std::optional<std::string>> out;
    for (int g = 1; g <= groups; ++g) {
        const auto& piece = found[static_cast<std::size_t>(g)];
        out.push_back(piece.data() ? std::optional<std::string>(std::string(piece.data(), piece.size()))
                                   : std::nullopt);
    }
    return out;
}

const std::string& pattern::text() const {
    return impl_->text;
}

}  // namespace corral::tasks
