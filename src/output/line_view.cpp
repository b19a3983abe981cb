#include "corral/output/line_view.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "corral/output/ansi.hpp"

namespace corral::output {

void line_view::add(std::vector<std::string>& out, std::string line) const {
    if (!line.empty() && line.back() == '\r') {
        line.pop_back();
    }
    // Overlong lines go out in max_line pieces (a complete line may arrive in one record).
    std::size_t pos = 0;
    for (; line.size() - pos > options_.max_line; pos += options_.max_line) {
        std::string piece = line.substr(pos, options_.max_line);
        out.push_back(options_.strip_ansi ? strip_ansi(piece) : std::move(piece));
    }
    line.erase(0, pos);
    out.push_back(options_.strip_ansi ? strip_ansi(line) : std::move(line));
}

std::vector<std::string> line_view::take(std::size_t max_bytes) {
    std::vector<std::string> lines;
    std::size_t budget = std::max<std::size_t>(max_bytes, 1);
    while (more(budget) && consume(log_->read(cursor_, std::min<std::size_t>(budget, 1 << 20)), budget, lines)) {
    }
    end_lines(lines);
    return lines;
}

net::awaitable<std::vector<std::string>> line_view::take_async(std::size_t max_bytes) {
    std::vector<std::string> lines;
    std::size_t budget = std::max<std::size_t>(max_bytes, 1);
    while (more(budget) &&
           consume(co_await log_->read_async(cursor_, std::min<std::size_t>(budget, 1 << 20)), budget, lines)) {
    }
    end_lines(lines);
    co_return lines;
}

bool line_view::more(std::size_t budget) const {
    return budget > 0 && (cursor_ < log_->end_offset() || cursor_ < log_->first_offset());
}

bool line_view::consume(const read_result& r, std::size_t& budget, std::vector<std::string>& lines) {
    for (const auto& rec : r.records) {
        budget -= std::min(budget, rec.bytes.size());
    }
    if (r.lost > 0) {
        for (auto& p : partial_) {
            if (!p.empty()) {
                add(lines, std::move(p));
                p.clear();
            }
        }
        lines.push_back(fmt::format("[corral: {} bytes of output were dropped here]", r.lost));
    }
    for (const auto& rec : r.records) {
        auto& partial = partial_[static_cast<std::size_t>(rec.source)];
        std::string_view bytes = rec.bytes;
        for (auto nl = bytes.find('\n'); nl != std::string_view::npos; nl = bytes.find('\n')) {
            partial.append(bytes.substr(0, nl));
            add(lines, std::move(partial));
            partial.clear();
            bytes.remove_prefix(nl + 1);
        }
        partial.append(bytes);
        if (partial.size() > options_.max_line) {
            const std::size_t keep = partial.size() % options_.max_line;
            add(lines, partial.substr(0, partial.size() - keep));
            partial.erase(0, partial.size() - keep);
        }
    }
    cursor_ = r.next;
    return !r.records.empty() || r.lost > 0;
}

void line_view::end_lines(std::vector<std::string>& lines) {
    if (log_->closed() && cursor_ >= log_->end_offset()) {
        for (auto& p : partial_) {
            if (!p.empty()) {
                add(lines, std::move(p));
                p.clear();
            }
        }
    }
}

bool line_view::finished() const {
    if (!log_->closed() || cursor_ < log_->end_offset()) {
        return false;
    }
    for (const auto& p : partial_) {
        if (!p.empty()) {
            return false;
        }
    }
    return true;
}

}  // namespace corral::output
