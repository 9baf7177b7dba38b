#pragma once
// ThreadSanitizer annotations for objects our threads hand to gRPC and get back on another thread.
//
// Debian's gRPC is not built with TSan: between "our thread starts a gRPC operation on object X" and
// "gRPC's thread hands X back" (CompletionQueue::Next returns X's tag, or gRPC runs X's reactor
// callback), gRPC orders the two threads through abseil mutexes and atomics that TSan cannot see, so
// every field of X our code wrote before the hand-off and reads after it would be reported as a race.
// `handoff_release(x)` just before the operation that hands x over and `handoff_acquire(x)` where
// x comes back tell TSan about that order (what gRPC guarantees), nothing more: a field written
// after the release, or read before the acquire, is still checked. Without TSan both compile to
// nothing. gRPC's own code compiled into our objects is left uninstrumented instead
// (scripts/sanitizers/tsan_ignorelist.txt).

#if defined(__SANITIZE_THREAD__)
#define SERVETWIN_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SERVETWIN_TSAN 1
#endif
#endif

#ifdef SERVETWIN_TSAN
extern "C" {
// The TSan runtime's interface (sanitizer/tsan_interface.h), declared here so that a build without
// TSan needs no sanitizer headers.
void __tsan_acquire(void* addr);  // NOLINT(bugprone-reserved-identifier,readability-identifier-naming)
void __tsan_release(void* addr);  // NOLINT(bugprone-reserved-identifier,readability-identifier-naming)
void __tsan_ignore_thread_begin();  // NOLINT(bugprone-reserved-identifier,readability-identifier-naming)
void __tsan_ignore_thread_end();    // NOLINT(bugprone-reserved-identifier,readability-identifier-naming)
}
#endif

namespace servetwin::live {

// Everything this thread wrote before this call happens-before what a thread does after
// handoff_acquire(x) on the same x.
inline void handoff_release([[maybe_unused]] const void* x) {
#ifdef SERVETWIN_TSAN
  __tsan_release(const_cast<void*>(x));  // NOLINT(cppcoreguidelines-pro-type-const-cast)
#endif
}

inline void handoff_acquire([[maybe_unused]] const void* x) {
#ifdef SERVETWIN_TSAN
  __tsan_acquire(const_cast<void*>(x));  // NOLINT(cppcoreguidelines-pro-type-const-cast)
#endif
}

// While one lives, TSan neither checks nor records this thread's memory accesses (synchronization
// still counts). For a call into gRPC that runs gRPC's code on our thread before it returns to us:
// CompletionQueue::Next finalizes the completed operation there (CallOpSet::FinalizeResult writes
// the call's status and response, gRPC's interceptor state) before our code can take the hand-off
// with handoff_acquire. Those accesses are gRPC's, as unchecked as the rest of gRPC.
class GrpcInternalsUnchecked {
 public:
  GrpcInternalsUnchecked() {  // NOLINT(modernize-use-equals-default): empty only without SERVETWIN_TSAN
#ifdef SERVETWIN_TSAN
    __tsan_ignore_thread_begin();
#endif
  }
  ~GrpcInternalsUnchecked() {  // NOLINT(modernize-use-equals-default): as the constructor
#ifdef SERVETWIN_TSAN
    __tsan_ignore_thread_end();
#endif
  }
  GrpcInternalsUnchecked(const GrpcInternalsUnchecked&) = delete;
  GrpcInternalsUnchecked& operator=(const GrpcInternalsUnchecked&) = delete;
};

}  // namespace servetwin::live
