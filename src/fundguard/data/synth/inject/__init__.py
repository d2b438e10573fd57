"""Injected violations: for every scenario of fundguard.data.scenarios, k instances on persons that
have no background care (reserved before the background is generated), each labelled.

- `injector`: reserving persons, the visit/line building blocks, the build order, ground truth;
- `policy`: 两库 line restrictions (限性别, 儿童, 机构级别, 就医方式, 工伤/生育, 支付疗程);
- `billing`: charging (频次, 周期, 重复收费, 手术折价, 超限价, 超量开药);
- `management`: 进销存, 分解住院, 死亡后/住院期间结算, 频繁就诊/购药, 重复报销, 诊断与性别不符;
- `fraud`: 挂床, 聚集性住院, 冒名, 刷卡套现, DRG 高套, 医师接诊量, 设备产能.
"""

from fundguard.data.synth.inject.injector import Injector, instances

__all__ = ["Injector", "instances"]
