#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "tradepipe/http/server.hpp"
#include "tradepipe/http/service_endpoints.hpp"

namespace tradepipe::http {

Response Json(int status, std::string body) { return Response{status, std::move(body), "application/json", {}}; }

Response JsonError(int status, std::string_view code, std::string_view message) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("error");
  w.String(code.data(), static_cast<rapidjson::SizeType>(code.size()));
  w.Key("message");
  w.String(message.data(), static_cast<rapidjson::SizeType>(message.size()));
  w.EndObject();
  return Json(status, std::string(buffer.GetString(), buffer.GetSize()));
}

void Router::Get(std::string path, SyncHandler handler) {
  routes_.push_back({"GET", std::move(path), false,
                     [h = std::move(handler)](const Request& r, Responder respond) { respond(h(r)); }});
}

void Router::Post(std::string path, SyncHandler handler) {
  routes_.push_back({"POST", std::move(path), false,
                     [h = std::move(handler)](const Request& r, Responder respond) { respond(h(r)); }});
}

void Router::GetPrefix(std::string prefix, SyncHandler handler) {
  routes_.push_back({"GET", std::move(prefix), true,
                     [h = std::move(handler)](const Request& r, Responder respond) { respond(h(r)); }});
}

void Router::PostPrefix(std::string prefix, Handler handler) {
  routes_.push_back({"POST", std::move(prefix), true, std::move(handler)});
}

void Router::Dispatch(const Request& request, Responder respond) const {
  const std::string_view path = request.path();
  std::string allowed;
  for (const Route& route : routes_) {
    const bool matches = route.prefix ? path.starts_with(route.path) : path == route.path;
    if (!matches) continue;
    if (request.method() == route.method) return route.handler(request, std::move(respond));
    allowed += (allowed.empty() ? "" : ", ") + route.method;
  }
  if (!allowed.empty()) {
    Response r = JsonError(405, "method_not_allowed", std::string(request.method()) + " not allowed here");
    r.headers.emplace_back("Allow", allowed);
    return respond(std::move(r));
  }
  respond(JsonError(404, "not_found", "no such endpoint"));
}

Handler Router::AsHandler() const {
  return [this](const Request& request, Responder respond) { Dispatch(request, std::move(respond)); };
}

void AddServiceEndpoints(Router& router, metrics::Metrics& metrics, std::function<std::string()> not_ready_reason) {
  router.Get("/health", [](const Request&) { return Json(200, R"({"status":"ok"})"); });
  router.Get("/ready", [reason = std::move(not_ready_reason)](const Request&) {
    const std::string why = reason();
    if (why.empty()) return Json(200, R"({"status":"ready"})");
    return JsonError(503, "not_ready", why);
  });
  router.Get("/metrics", [&metrics](const Request&) {
    return Response{200, metrics.Render(), "text/plain; version=0.0.4; charset=utf-8", {}};
  });
}

}  // namespace tradepipe::http
