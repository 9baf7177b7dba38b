// gtest main with one extra mode: `live_tests --twin-child PORTFILE` runs a twin (fake engine)
// in this process and writes its port to PORTFILE, so a test can start a server in a separate
// process and kill it with SIGKILL mid-run (no fork() in a process that already runs gRPC).
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <thread>

#include "tests/live/live_test_util.hpp"

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "--twin-child") == 0) {
    servetwin::live::TwinOptions o;
    servetwin::testing::FakeEngineParams p;
    p.step_base_ns = 20 * servetwin::kNsPerMs;  // slow, so requests are in flight when killed
    servetwin::live::TwinServer twin(o, servetwin::testing::fake_factory(p));
    const int port = twin.start();
    {
      std::ofstream f(std::string(argv[2]) + ".tmp");
      f << port << '\n';
    }
    std::filesystem::rename(std::string(argv[2]) + ".tmp", argv[2]);
    // Bounded: the parent kills us long before this.
    std::this_thread::sleep_for(std::chrono::seconds(60));
    return 0;
  }
  ::testing::InitGoogleTest(&argc, argv);
  const int rc = RUN_ALL_TESTS();
  servetwin::testing::clean_temp_dirs(rc == 0);
  return rc;
}
