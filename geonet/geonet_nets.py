"""GeoNet's three networks (Yin and Shi, CVPR 2018), TF 1.15 / tf.contrib.slim.

- DispNet: encoder-decoder with ResNet-50 or VGG encoder; disparity (inverse depth) at 4 scales,
  sigmoid * 5 (ResNet-50) or * 10 (VGG) + 0.01.
- PoseNet: 7 stride-2 convolutions (16, 32, 64, 128, 256, 256, 256 channels), a 1x1 conv to
  6 values per source frame, global average, times 0.01.
- ResFlowNet: the ResNet-50 encoder-decoder predicting 2-channel flow at 4 scales, times 0.1
  (normalised by image width/height; the model turns it into pixels).
Every conv but the prediction layers has batch norm and ReLU. The ResNet-50 blocks follow the
reference implementation (which follows monodepth): each block has a projection shortcut and the
stride-2 block ends each stage; published checkpoints depend on that layout.
`width` multiplies every hidden layer's channel count: 1.0 is the paper's network; smaller values
only serve quick CPU runs (the demo). `bn_decay` is the batch-norm moving-average decay (slim's
0.999, as the reference); a run of a few hundred steps needs less, or the test-time statistics
still mostly hold their initial values.
"""

import tensorflow as tf
import tensorflow.contrib.slim as slim

DISP_SCALING_RESNET50 = 5.0
DISP_SCALING_VGG = 10.0
MIN_DISP = 0.01
FLOW_SCALING = 0.1
POSE_SCALING = 0.01


def _pad(x, kernel_size):
    p = (kernel_size - 1) // 2
    return tf.pad(x, [[0, 0], [p, p], [p, p], [0, 0]])


def conv(x, channels, kernel_size, stride, activation_fn=tf.nn.relu, normalizer_fn=slim.batch_norm):
    """Symmetric explicit padding then a VALID convolution (stride 2 halves exactly)."""
    return slim.conv2d(
        _pad(x, kernel_size),
        channels,
        kernel_size,
        stride,
        "VALID",
        activation_fn=activation_fn,
        normalizer_fn=normalizer_fn,
    )


def maxpool(x, kernel_size):
    return slim.max_pool2d(_pad(x, kernel_size), kernel_size)


def upsample_nn(x, ratio):
    h, w = x.get_shape().as_list()[1:3]
    return tf.image.resize_nearest_neighbor(x, [h * ratio, w * ratio])


def upconv(x, channels, kernel_size, scale):
    return conv(upsample_nn(x, scale), channels, kernel_size, 1)


def resize_like(x, ref):
    h, w = x.get_shape().as_list()[1:3]
    rh, rw = ref.get_shape().as_list()[1:3]
    if (h, w) == (rh, rw):
        return x
    return tf.image.resize_nearest_neighbor(x, [rh, rw])


def resconv(x, channels, stride):
    out = conv(x, channels, 1, 1)
    out = conv(out, channels, 3, stride)
    out = conv(out, 4 * channels, 1, 1, activation_fn=None)
    shortcut = conv(x, 4 * channels, 1, stride, activation_fn=None)
    return tf.nn.relu(out + shortcut)


def resblock(x, channels, num_blocks):
    for _ in range(num_blocks - 1):
        x = resconv(x, channels, 1)
    return resconv(x, channels, 2)


def _widths(width, *channels):
    if width <= 0:
        raise ValueError(f"network width multiplier must be positive, got {width}")
    return [max(1, int(round(c * width))) for c in channels]


def _arg_scope(is_training, bn_decay):
    return slim.arg_scope(
        [slim.conv2d],
        normalizer_fn=slim.batch_norm,
        normalizer_params={"is_training": is_training, "decay": bn_decay},
        activation_fn=tf.nn.relu,
    )


def build_resnet50(inputs, get_pred, is_training, scope, width=1.0, bn_decay=0.999):
    """ResNet-50 encoder + skip-connected decoder; predictions at scales 1, 1/2, 1/4, 1/8."""
    c16, c32, c64, c128, c256, c512 = _widths(width, 16, 32, 64, 128, 256, 512)
    with tf.variable_scope(scope), _arg_scope(is_training, bn_decay):
        conv1 = conv(inputs, c64, 7, 2)  # 1/2
        pool1 = maxpool(conv1, 3)  # 1/4
        conv2 = resblock(pool1, c64, 3)  # 1/8, 256 channels at width 1
        conv3 = resblock(conv2, c128, 4)  # 1/16, 512
        conv4 = resblock(conv3, c256, 6)  # 1/32, 1024
        conv5 = resblock(conv4, c512, 3)  # 1/64, 2048

        up6 = resize_like(upconv(conv5, c512, 3, 2), conv4)
        iconv6 = conv(tf.concat([up6, conv4], 3), c512, 3, 1)
        up5 = resize_like(upconv(iconv6, c256, 3, 2), conv3)
        iconv5 = conv(tf.concat([up5, conv3], 3), c256, 3, 1)
        up4 = resize_like(upconv(iconv5, c128, 3, 2), conv2)
        iconv4 = conv(tf.concat([up4, conv2], 3), c128, 3, 1)
        pred4 = get_pred(iconv4)

        up3 = upconv(iconv4, c64, 3, 2)
        iconv3 = conv(tf.concat([up3, pool1, upsample_nn(pred4, 2)], 3), c64, 3, 1)
        pred3 = get_pred(iconv3)

        up2 = upconv(iconv3, c32, 3, 2)
        iconv2 = conv(tf.concat([up2, conv1, upsample_nn(pred3, 2)], 3), c32, 3, 1)
        pred2 = get_pred(iconv2)

        up1 = upconv(iconv2, c16, 3, 2)
        iconv1 = conv(tf.concat([up1, upsample_nn(pred2, 2)], 3), c16, 3, 1)
        pred1 = get_pred(iconv1)
        return [pred1, pred2, pred3, pred4]


def build_vgg(inputs, get_pred, is_training, scope, width=1.0, bn_decay=0.999):
    """VGG-style encoder (SfMLearner's DispNet) + decoder; 4 prediction scales."""
    height, img_width = inputs.get_shape().as_list()[1:3]
    c16, c32, c64, c128, c256, c512 = _widths(width, 16, 32, 64, 128, 256, 512)
    with tf.variable_scope(scope), _arg_scope(is_training, bn_decay):
        c1 = slim.conv2d(slim.conv2d(inputs, c32, 7, 2), c32, 7, 1)
        c2 = slim.conv2d(slim.conv2d(c1, c64, 5, 2), c64, 5, 1)
        c3 = slim.conv2d(slim.conv2d(c2, c128, 3, 2), c128, 3, 1)
        c4 = slim.conv2d(slim.conv2d(c3, c256, 3, 2), c256, 3, 1)
        c5 = slim.conv2d(slim.conv2d(c4, c512, 3, 2), c512, 3, 1)
        c6 = slim.conv2d(slim.conv2d(c5, c512, 3, 2), c512, 3, 1)
        c7 = slim.conv2d(slim.conv2d(c6, c512, 3, 2), c512, 3, 1)

        up7 = resize_like(upconv(c7, c512, 3, 2), c6)
        i7 = slim.conv2d(tf.concat([up7, c6], 3), c512, 3, 1)
        up6 = resize_like(upconv(i7, c512, 3, 2), c5)
        i6 = slim.conv2d(tf.concat([up6, c5], 3), c512, 3, 1)
        up5 = resize_like(upconv(i6, c256, 3, 2), c4)
        i5 = slim.conv2d(tf.concat([up5, c4], 3), c256, 3, 1)
        up4 = resize_like(upconv(i5, c128, 3, 2), c3)
        i4 = slim.conv2d(tf.concat([up4, c3], 3), c128, 3, 1)
        pred4 = get_pred(i4)
        pred4_up = tf.image.resize_bilinear(pred4, [height // 4, img_width // 4])

        up3 = resize_like(upconv(i4, c64, 3, 2), c2)
        i3 = slim.conv2d(tf.concat([up3, c2, pred4_up], 3), c64, 3, 1)
        pred3 = get_pred(i3)
        pred3_up = tf.image.resize_bilinear(pred3, [height // 2, img_width // 2])

        up2 = resize_like(upconv(i3, c32, 3, 2), c1)
        i2 = slim.conv2d(tf.concat([up2, c1, pred3_up], 3), c32, 3, 1)
        pred2 = get_pred(i2)
        pred2_up = tf.image.resize_bilinear(pred2, [height, img_width])

        up1 = upconv(i2, c16, 3, 2)
        i1 = slim.conv2d(tf.concat([up1, pred2_up], 3), c16, 3, 1)
        pred1 = get_pred(i1)
        return [pred1, pred2, pred3, pred4]


def get_disp_resnet50(x):
    return DISP_SCALING_RESNET50 * conv(x, 1, 3, 1, tf.nn.sigmoid, None) + MIN_DISP


def get_disp_vgg(x):
    pred = slim.conv2d(x, 1, 3, 1, activation_fn=tf.nn.sigmoid, normalizer_fn=None)
    return DISP_SCALING_VGG * pred + MIN_DISP


def get_flow(x):
    return FLOW_SCALING * slim.conv2d(x, 2, 3, 1, activation_fn=None, normalizer_fn=None)


def disp_net(inputs, encoder, is_training, width=1.0, bn_decay=0.999):
    """[N, H, W, 3] images in [-1, 1] -> 4 disparity maps [N, H/2^s, W/2^s, 1]."""
    if encoder == "vgg":
        return build_vgg(inputs, get_disp_vgg, is_training, "depth_net", width, bn_decay)
    if encoder == "resnet50":
        return build_resnet50(inputs, get_disp_resnet50, is_training, "depth_net", width, bn_decay)
    raise ValueError(f"dispnet_encoder must be 'resnet50' or 'vgg', got {encoder!r}")


def flow_net(inputs, is_training, width=1.0, bn_decay=0.999):
    """[N, H, W, C] stacked inputs -> 4 normalised flows [N, H/2^s, W/2^s, 2]."""
    return build_resnet50(inputs, get_flow, is_training, "flow_net", width, bn_decay)


def pose_net(inputs, num_source, is_training, width=1.0, bn_decay=0.999):
    """[B, H, W, 3 * (1 + num_source)] target then sources -> [B, num_source, 6] poses."""
    channels = _widths(width, 16, 32, 64, 128, 256, 256, 256)
    with tf.variable_scope("pose_net"), _arg_scope(is_training, bn_decay):
        x = inputs
        for c, kernel in zip(channels, (7, 5, 3, 3, 3, 3, 3)):
            x = slim.conv2d(x, c, kernel, 2)
        pred = slim.conv2d(x, 6 * num_source, 1, 1, normalizer_fn=None, activation_fn=None)
        return POSE_SCALING * tf.reshape(tf.reduce_mean(pred, [1, 2]), [-1, num_source, 6])
