/* The few rtnetlink(7) requests skiff makes, written by hand: look a link
   up, list its addresses, move it to another network namespace under a
   new name, add an address, bring a link up.  Each call sends one request
   and reads its answers before returning. */
#ifndef SKIFF_NETLINK_H
#define SKIFF_NETLINK_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct nl_link
{
  int index;
  unsigned flags; /* IFF_* */
  unsigned mtu;
  char name[IFNAMSIZ];
};

/* An address as RTM_GETADDR reports it, enough to add it again. */
struct nl_addr
{
  unsigned char family, prefixlen, scope;
  uint32_t flags; /* IFA_F_* */
  unsigned char local[16], address[16], broadcast[4];
  bool has_local, has_address, has_broadcast;
};

/* A NETLINK_ROUTE socket (close-on-exec) in our network namespace, or in
   the one netns_fd names. */
int nl_open (skiff_error_t *err);
int nl_open_in_netns (int netns_fd, skiff_error_t *err);

/* 1 and *out when a link of that name (or index) exists, 0 when none. */
int nl_link_by_name (int fd, const char *name, struct nl_link *out, skiff_error_t *err);
int nl_link_by_index (int fd, int index, struct nl_link *out, skiff_error_t *err);
/* The indexes of every link, in a malloc'd array. */
int nl_link_indexes (int fd, int **out, size_t *n, skiff_error_t *err);
/* Move link `index` into the network namespace netns_fd, named `name`
   there (a "%d" template lets the kernel number it). */
int nl_link_move (int fd, int index, const char *name, int netns_fd, skiff_error_t *err);
/* IFF_UP on link `index`.  No allocation unless it fails: the container's
   init uses it. */
int nl_link_up (int fd, int index, skiff_error_t *err);

/* The addresses of link `index` (every family), in a malloc'd array. */
int nl_addr_list (int fd, int index, struct nl_addr **out, size_t *n, skiff_error_t *err);
int nl_addr_add (int fd, int index, const struct nl_addr *a, skiff_error_t *err);
/* "192.0.2.1/24", "2001:db8::1/64". */
void nl_addr_format (const struct nl_addr *a, char *buf, size_t size);

#endif
