#include "endpoints.hpp"

#include "tradepipe/common/percent.hpp"
#include "tradepipe/events/subject.hpp"

namespace tradepipe::execsim {

void AddEndpoints(http::Router& router, const Market& market, const OrderStates& states, const RestingBook& resting,
                  const std::atomic<uint64_t>& last_sequence) {
  router.GetPrefix("/book/", [&market, &last_sequence](const http::Request& req) {
    const std::string symbol = PercentDecode(req.path().substr(std::string_view("/book/").size()));
    if (auto problem = events::SymbolProblem(symbol); !problem.empty()) {
      return http::JsonError(400, "bad_symbol", "symbol: " + problem);
    }
    const uint64_t next = last_sequence.load() + 1;
    return http::Json(200, BookJson(symbol, next, market.BookAt(symbol, next)));
  });
  router.GetPrefix("/orders/", [&states, &resting](const http::Request& req) {
    const std::string id = PercentDecode(req.path().substr(std::string_view("/orders/").size()));
    auto state = states.Find(id);
    if (!state) {
      // A resting order from before a restart, or older than the states remembered.
      if (auto order = resting.Find(id)) {
        state = RestingState(*order, order->cum > events::Decimal() ? "partial" : "accepted", 0);
      }
    }
    if (!state) return http::JsonError(404, "not_found", "no such order among the last executed (or before a restart)");
    return http::Json(200, OrderStates::ToJson(id, *state));
  });
}

}  // namespace tradepipe::execsim
