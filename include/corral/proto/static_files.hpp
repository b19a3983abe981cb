#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "corral/core/error_info.hpp"
#include "corral/proto/http_front.hpp"

namespace corral::proto {

/**
 * Serves the files of one directory (the web page's, `[api] web_root`) by GET, registered on the
 * http_front at "/" as an open route: a page must load before it can ask for a token. "/" and a
 * directory serve their index.html. Only regular files inside the root are served: no segment may
 * be "..", empty or start with '.', and a symbolic link that leads outside the root is refused as
 * if missing. Replies carry an ETag (If-None-Match answers 304), `Cache-Control: no-cache`,
 * `nosniff`, and for HTML a Content-Security-Policy that lets the page talk to its own origin only
 * and be framed by nobody. A client that accepts gzip gets `NAME.gz` instead of NAME when the build
 * made one beside it (`Content-Encoding: gzip`, its own ETag, `Vary: Accept-Encoding`).
 *
 * @par Thread safety
 * Not thread-safe: the core's executor only. Files are read on `blocking`.
 */
class static_files final : public http_route {
  public:
    /// Larger files are not served (500 file_too_large): a web page's assets are far smaller.
    static constexpr std::uintmax_t max_file = 64u << 20;

    /// Errors: errc::invalid_argument when `root` is not a readable directory.
    static result_info<std::unique_ptr<static_files>> create(const std::string& root, net::any_io_executor blocking);

    net::awaitable<http::reply> serve(http::request& req,
                                      const http::peer& who,
                                      const auth::identity& me,
                                      const target& t) override;

  private:
    static_files(std::filesystem::path root, net::any_io_executor blocking)
        : root_(std::move(root)), blocking_(std::move(blocking)) {}

    std::filesystem::path root_;  ///< canonical
    net::any_io_executor blocking_;
};

/// The Content-Type for a file name, by its extension (application/octet-stream when unknown).
std::string_view content_type_for(std::string_view file_name);

}  // namespace corral::proto
