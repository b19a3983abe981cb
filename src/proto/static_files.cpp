// The web page's files, read-only, from one directory.
#include "corral/proto/static_files.hpp"

#include <sys/stat.h>

#include <array>
#include <optional>
#include <fstream>
#include <utility>

#include <fmt/format.h>
#include <boost/beast/http/field.hpp>

#include "corral/core/blocking_work.hpp"

namespace corral::proto {
namespace {

namespace fs = std::filesystem;
namespace field = boost::beast::http;

/// What a lookup found, decided on the blocking thread.
struct found_file {
    http::status status = http::status::ok;
    std::string error_code;
    std::string error;
    std::string name;
    std::string etag;
    std::string body;
    bool gzipped = false;
};

/// The identity of a file's version, for ETag and If-None-Match.
std::string etag_of(const struct stat& st, bool gzipped) {
    return fmt::format("\"{:x}-{:x}-{:x}{}\"",
                       st.st_ino,
                       st.st_size,
                       st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec,
                       gzipped ? "-gz" : "");
}

bool acceptable_segment(const std::string& s) {
    return !s.empty() && s.front() != '.' && s.find('/') == std::string::npos && s.find('\0') == std::string::npos;
}

found_file missing(const std::string& path) {
    return {http::status::not_found, "not_found", fmt::format("no file {}", path)};
}

/// The compressed copy made beside a file at build time (web/CMakeLists.txt), as nginx's gzip_static:
/// no compression on the request path. Only a regular file inside the root, at least as new as the
/// file and smaller than it.
std::optional<std::pair<fs::path, struct stat>> gzip_copy(const fs::path& root, const fs::path& file, const struct stat& st) {
    auto gz = file;
    gz += ".gz";
    std::error_code ec;
    auto real = fs::canonical(gz, ec);
    struct stat gst {};
    if (ec || !real.native().starts_with(root.native() + "/") || ::stat(real.c_str(), &gst) != 0 ||
        !S_ISREG(gst.st_mode) || gst.st_mtim.tv_sec < st.st_mtim.tv_sec || gst.st_size >= st.st_size) {
        return std::nullopt;
    }
    return std::pair{std::move(real), gst};
}

/// Resolves and reads the file of `segments` under `root`, or says why not. Blocking.
found_file read_file(const fs::path& root,
                     const std::vector<std::string>& segments,
                     const std::string& shown,
                     const std::string& if_none_match,
                     bool gzip_ok) {
    fs::path path = root;
    for (const auto& s : segments) {
        if (!acceptable_segment(s)) {
            return missing(shown);
        }
        path /= s;
    }
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
        path /= "index.html";
    }
    // Symbolic links inside the root may point anywhere in it, never outside.
    const auto real = fs::canonical(path, ec);
    const auto inside = real.native().starts_with(root.native() + "/");
    struct stat st {};
    if (ec || !inside || ::stat(real.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
        return missing(shown);
    }
    if (static_cast<std::uintmax_t>(st.st_size) > static_files::max_file) {
        return {http::status::internal_server_error,
                "file_too_large",
                fmt::format("{} is larger than the {} bytes a served file may have", shown, static_files::max_file)};
    }
    found_file f;
    f.name = real.filename().string();
    auto served = real;
    if (auto gz = gzip_ok ? gzip_copy(root, real, st) : std::nullopt) {
        served = std::move(gz->first);
        st = gz->second;
        f.gzipped = true;
    }
    f.etag = etag_of(st, f.gzipped);
    if (if_none_match == f.etag) {
        f.status = http::status::not_modified;
        return f;
    }
    // As large as it was when looked at: a file growing meanwhile is not read without bound.
    std::ifstream in(served, std::ios::binary);
    f.body.resize(static_cast<std::size_t>(st.st_size));
    in.read(f.body.data(), static_cast<std::streamsize>(f.body.size()));
    if (!in) {
        return {http::status::internal_server_error, "read_failed", fmt::format("cannot read {}", shown)};
    }
    return f;
}

}  // namespace

std::string_view content_type_for(std::string_view file_name) {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 17> types{{
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".map", "application/json"},
        {".txt", "text/plain; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".jpg", "image/jpeg"},
        {".jpeg", "image/jpeg"},
        {".gif", "image/gif"},
        {".ico", "image/x-icon"},
        {".webp", "image/webp"},
        {".woff", "font/woff"},
        {".woff2", "font/woff2"},
        {".wasm", "application/wasm"},
    }};
    for (const auto& [ext, type] : types) {
        if (file_name.ends_with(ext)) {
            return type;
        }
    }
    return "application/octet-stream";
}

result_info<std::unique_ptr<static_files>> static_files::create(const std::string& root, net::any_io_executor blocking) {
    std::error_code ec;
    auto real = fs::canonical(root, ec);
    if (ec || !fs::is_directory(real, ec)) {
        return error_info{errc::invalid_argument, fmt::format("web_root '{}' is not a directory", root)};
    }
    return std::unique_ptr<static_files>(new static_files(std::move(real), std::move(blocking)));
}

net::awaitable<http::reply> static_files::serve(http::request& req,
                                                const http::peer&,
                                                const auth::identity&,
                                                const target& t) {
    if (req.method() != http::verb::get) {
        auto r = error_reply(http::status::method_not_allowed,
                             "method_not_allowed",
                             fmt::format("{} {}: the web page's files take GET only",
                                         std::string_view(req.method_string()),
                                         std::string_view(req.target())));
        r.head.set(field::field::allow, "GET");
        co_return r;
    }
    std::string shown = "/";
    for (std::size_t i = 0; i < t.segments.size(); ++i) {
        shown += (i ? "/" : "") + t.segments[i];
    }
    auto lookup = [root = root_,
                   segments = t.segments,
                   shown,
                   etag = std::string(req[field::field::if_none_match]),
                   gzip_ok = accepts_gzip(req[field::field::accept_encoding])] {
        return read_file(root, segments, shown, etag, gzip_ok);
    };
    // Named first: g++ 12 miscompiles temporaries inside a co_await expression.
    found_file f = co_await run_blocking(blocking_, std::move(lookup));
    if (!f.error_code.empty()) {
        co_return error_reply(f.status, f.error_code, f.error);
    }
    http::reply r;
    r.head.result(f.status);
    r.head.version(11);
    r.head.set(field::field::etag, f.etag);
    r.head.set(field::field::cache_control, "no-cache");
    r.head.set("X-Content-Type-Options", "nosniff");
    r.head.set(field::field::vary, "Accept-Encoding");
    if (f.gzipped) {
        r.head.set(field::field::content_encoding, "gzip");
    }
    if (f.status == http::status::ok) {
        const auto type = content_type_for(f.name);
        r.head.set(field::field::content_type, type);
        if (type.starts_with("text/html")) {
            r.head.set("Content-Security-Policy",
                       // Inline styles only (xterm.js writes its theme into a <style> element);
                       // scripts, connections and everything else stay on this origin.
                       "default-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; "
                       "frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
            r.head.set("X-Frame-Options", "DENY");
            r.head.set("Referrer-Policy", "no-referrer");
        }
        r.head.body() = std::move(f.body);
    }
    co_return r;
}

}  // namespace corral::proto
