// Time as the sans-I/O core sees it: a point passed in by the caller, never read from a clock.
#pragma once

#include <chrono>

namespace hashi {
using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = Clock::duration;
}  // namespace hashi
