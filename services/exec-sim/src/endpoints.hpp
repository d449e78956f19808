// exec-sim's read endpoints: GET /book/{symbol} (the book the next order of that symbol meets)
// and GET /orders/{order_id} (an order's last state: the newest executed, and every resting one).
// Percent-encoded path parts are decoded.
#pragma once

#include <atomic>
#include <cstdint>

#include "market.hpp"
#include "order_states.hpp"
#include "resting.hpp"
#include "tradepipe/http/server.hpp"

namespace tradepipe::execsim {

// `last_sequence`: the ORDERS sequence of the last order executed (the market's clock).
void AddEndpoints(http::Router& router, const Market& market, const OrderStates& states, const RestingBook& resting,
                  const std::atomic<uint64_t>& last_sequence);

}  // namespace tradepipe::execsim
