#pragma once
// A benchmark's server in a child process: posix_spawn of the benchmark's own binary with
// arguments (no fork of a process that may hold gRPC threads). The child prints its port on the
// first line of stdout, serves until its stdin closes, then prints its report (the rest of stdout).
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

namespace servetwin::testing {

class BenchChild {
 public:
  BenchChild(const char* self, std::vector<std::string> args) {
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) throw std::runtime_error("pipe");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addclose(&fa, in[1]);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    args.insert(args.begin(), self);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, self, &fa, nullptr, argv.data(), environ) != 0) throw std::runtime_error("spawn");
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    to_child_ = in[1];
    from_child_ = fdopen(out[0], "r");
    char line[64] = {};
    if (fgets(line, sizeof line, from_child_) == nullptr) throw std::runtime_error("server process did not start");
    port_ = std::atoi(line);
  }
  BenchChild(const BenchChild&) = delete;
  BenchChild& operator=(const BenchChild&) = delete;
  ~BenchChild() {
    if (from_child_ == nullptr) return;
    try {
      finish();
    } catch (const std::exception&) {  // unwinding from another error: the child's status is secondary
    }
  }
  [[nodiscard]] int port() const { return port_; }
  // Closes the child's stdin, reads its report and waits for it to exit.
  std::string finish() {
    close(to_child_);
    std::string text;
    char buf[65536];
    std::size_t n = 0;
    while ((n = fread(buf, 1, sizeof buf, from_child_)) > 0) text.append(buf, n);
    fclose(from_child_);
    from_child_ = nullptr;
    int status = 0;
    waitpid(pid_, &status, 0);
    // A child that died (a crash in the twin) must not pass as an empty report.
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      throw std::runtime_error("bench child " + std::to_string(pid_) +
                               (WIFSIGNALED(status) ? " killed by signal " + std::to_string(WTERMSIG(status))
                                                    : " exited " + std::to_string(WEXITSTATUS(status))) +
                               "; its report: '" + text.substr(0, 200) + "'");
    }
    return text;
  }

 private:
  pid_t pid_ = 0;
  int to_child_ = -1;
  FILE* from_child_ = nullptr;
  int port_ = 0;
};

}  // namespace servetwin::testing
