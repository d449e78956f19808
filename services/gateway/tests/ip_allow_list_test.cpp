#include "ip_allow_list.hpp"

#include <gtest/gtest.h>

namespace tradepipe::gateway {
namespace {

TEST(IpAllowList, EmptyAllowsEveryone) {
  auto list = IpAllowList::Parse({});
  ASSERT_TRUE(list);
  EXPECT_TRUE(list->Allows("203.0.113.9"));
}

TEST(IpAllowList, AddressesAndRanges) {
  auto list = IpAllowList::Parse({"52.89.214.238", "10.0.0.0/8", "192.168.4.0/22", "2001:db8::/32", "::1"});
  ASSERT_TRUE(list) << list.error();
  struct AddressCase {
    const char* address;
    bool allowed;
  } cases[] = {
      {"52.89.214.238", true}, {"52.89.214.239", false},  {"10.200.1.1", true},    {"11.0.0.1", false},
      {"192.168.7.255", true}, {"192.168.8.0", false},    {"2001:db8:1::5", true}, {"2001:db9::1", false},
      {"::1", true},           {"::ffff:10.1.2.3", true}, {"not an ip", false},    {"", false},
  };
  for (const auto& c : cases) EXPECT_EQ(list->Allows(c.address), c.allowed) << c.address;
}

TEST(IpAllowList, BadEntriesAreRefusedByName) {
  for (const char* bad : {"300.1.1.1", "10.0.0.0/33", "10.0.0.0/", "2001:db8::/129", "host.example"}) {
    auto list = IpAllowList::Parse({bad});
    ASSERT_FALSE(list) << bad;
    EXPECT_NE(list.error().find(bad), std::string::npos) << list.error();
  }
}

}  // namespace
}  // namespace tradepipe::gateway
