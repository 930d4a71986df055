# backends/block: blkback (image, queues, persistent grants, xenbus "vbd"
# driver), the keel-blkback daemon, and the TEST blkfront over the loopback
# test transport used by the unit tests, the xenbus harness and the bench.
BLK_SRCS := $(addprefix backends/block/,blk_image.c blk_pgrant.c blk_queue.c blk_dev.c \
	blk_stats.c blk_xenbus.c blkfront_loop.c)
BLK_OBJS := $(call objs,$(BLK_SRCS))
$(eval $(call keel_library,libkeelblkback,$(BLK_OBJS)))
# Libraries by path: backends/common and dom0 are included after this file.
BK_LIBS := $(LIB)/libkeelbackend.a $(LIB)/libkeelstore.a
$(eval $(call keel_program,keel-blkback,$(call objs,backends/block/blk_main.c) $(BLK_OBJS) \
	$(BK_LIBS) $(XEN_DROPIN),-lpthread $(XEN_DROPIN_RPATH)))

UNIT_SRCS += $(wildcard tests/unit/test_blkback_*.c)
UNIT_OBJS += $(BLK_OBJS)
