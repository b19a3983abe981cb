#include "corral/jobs/pipe_reader.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "corral/core/log_exceptions.hpp"

namespace corral::jobs {

struct pipe_reader::block {
    std::unique_ptr<char[]> bytes;
    std::size_t size = 0;
};

namespace {

using block_ptr = std::unique_ptr<pipe_reader::block>;
// Thread-safe channels: the reader thread sends on `full` and receives on `empty`; the core the
// other way round.
using block_channel = net::experimental::concurrent_channel<void(boost::system::error_code, block_ptr)>;

}  // namespace

struct pipe_reader::shared_state {
    shared_state(net::any_io_executor core, std::size_t blocks) : full(core, blocks), empty(core, blocks) {}
    void close() {
        full.close();
        empty.close();
    }
    block_channel full;   // read bytes, to the core; the end comes as an error code
    block_channel empty;  // blocks the core is done with, back to the reader
};

namespace {

// A block to read into: one the core gave back, a new one while fewer than blocks_per_pipe exist,
// or else the next one given back (null when the reading was abandoned).
net::awaitable<block_ptr> take_block(pipe_reader::shared_state& state,
                                     std::size_t& made,
                                     const pipe_reader::options& options) {
    block_ptr b;
    if (state.empty.try_receive([&](boost::system::error_code, block_ptr got) { b = std::move(got); })) {
        co_return b;
    }
    if (made < options.blocks_per_pipe) {
        ++made;
        b = std::make_unique<pipe_reader::block>();
        b->bytes = std::make_unique_for_overwrite<char[]>(options.block_size);
        co_return b;
    }
    auto [ec, got] = co_await state.empty.async_receive(use_nothrow);
    co_return ec ? nullptr : std::move(got);
}

// Runs on the reader thread and owns its duplicate of the pipe. It ends at the pipe's end or when
// the core closes the channels (the reading was abandoned).
net::awaitable<void> read_pipe(std::shared_ptr<pipe_reader::shared_state> state,
                               net::posix::stream_descriptor pipe,
                               pipe_reader::options options) {
    std::size_t made = 0;
    block_ptr b;
    for (;;) {
        if (!b) {
            b = co_await take_block(*state, made, options);  // g++ 12: no co_await in a condition
            if (!b) {
                co_return;
            }
        }
        ssize_t n = ::read(pipe.native_handle(), b->bytes.get(), options.block_size);
        if (n > 0) {
            b->size = static_cast<std::size_t>(n);
            auto [ec] =
                co_await state->full.async_send(boost::system::error_code{}, std::move(b), use_nothrow);
            if (ec) {
                co_return;
            }
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            auto [ec] = co_await pipe.async_wait(net::posix::descriptor_base::wait_read, use_nothrow);
            if (ec) {
                co_return;
            }
            continue;
        }
        boost::system::error_code end =
            n == 0 ? boost::system::error_code(net::error::eof)
                   : boost::system::error_code(errno, boost::system::system_category());
        co_await state->full.async_send(end, block_ptr{}, use_nothrow);
        co_return;
    }
}

}  // namespace

pipe_reader::pipe_reader(options o) : options_(o) {
    thread_ = std::thread([this] {
        auto work = net::make_work_guard(context_);
        context_.run();
    });
}

pipe_reader::~pipe_reader() {
    // Closing first completes the reader coroutines' pending channel operations while their
    // context can still take the completions; stop() then drops whatever is left (a coroutine
    // waiting on a silent pipe), and the context's destruction frees it.
    for (auto& weak : open_) {
        if (auto state = weak.lock()) {
            state->close();
        }
    }
    context_.stop();
    thread_.join();
}

std::unique_ptr<pipe_reader::reading> pipe_reader::open(int fd, net::any_io_executor core) {
    std::erase_if(open_, [](const auto& weak) { return weak.expired(); });
    auto state = std::make_shared<shared_state>(core, options_.blocks_per_pipe);
    open_.push_back(state);
    int mine = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (mine < 0) {
        // Out of descriptors: end this reading at once, with the reason.
        (void)state->full.try_send(boost::system::error_code(errno, boost::system::system_category()),
                                   block_ptr{});
        return std::make_unique<reading>(std::move(state));
    }
    net::co_spawn(context_,
                  read_pipe(state, net::posix::stream_descriptor(context_, mine), options_),
                  log_exceptions{"pipe reader"});
    return std::make_unique<reading>(std::move(state), pressure_, options_.block_size / 2);
}

pipe_reader::reading::reading(std::shared_ptr<shared_state> state,
                              std::shared_ptr<output_pressure> pressure,
                              std::size_t big_block)
    : state_(std::move(state)), pressure_(std::move(pressure)), big_block_(big_block) {}

pipe_reader::reading::~reading() {
    state_->close();
}

net::awaitable<std::span<const char>> pipe_reader::reading::next() {
    if (current_) {
        (void)state_->empty.try_send(boost::system::error_code{}, std::move(current_));
    }
    if (ended_) {
        co_return std::span<const char>{};
    }
    // A block already waiting is taken without suspending: a suspension costs a turn of the event
    // loop, which is what the reader thread is here to spare.
    boost::system::error_code ec;
    block_ptr got;
    if (!state_->full.try_receive([&](boost::system::error_code e, block_ptr b) {
            ec = e;
            got = std::move(b);
        })) {
        std::tie(ec, got) = co_await state_->full.async_receive(use_nothrow);
    }
    if (ec || !got) {
        ended_ = true;
        if (ec && ec != net::error::eof && ec != net::experimental::channel_errc::channel_closed) {
            error_ = ec.value();
        }
        co_return std::span<const char>{};
    }
    current_ = std::move(got);
    if (pressure_ && current_->size >= big_block_) {
        pressure_->pouring();
    }
    co_return std::span<const char>(current_->bytes.get(), current_->size);
}

}  // namespace corral::jobs
